//! ISA-L's igzip deflate, through the raw bindings of `isal-sys`: the only `unsafe` of the
//! crate (see ARCHITECTURE, dependencies).
//!
//! The safe wrapper of the same library (`isal-rs`) only writes complete streams; a block of
//! a single gzip member must end with a sync flush instead (byte-aligned, not final) and
//! should be primed with the previous block's last 32 KiB. Both are plain calls of the C
//! API, wrapped here in one function whose pointers all come from slices and vectors that
//! outlive the calls.
#![allow(unsafe_code)]

use std::io;
use std::mem::MaybeUninit;

use isal_sys::igzip_lib as ffi;

/// Appends to `out` the raw deflate of `input` at igzip `level` (0 to 3), with `dict` (its
/// last 32 KiB) as the history the first matches may point into, ended by a sync flush: the
/// blocks are not final and the output ends on a byte boundary, so the next block's deflate
/// can follow it in the same stream.
pub(crate) fn deflate_sync(
    level: u32,
    dict: &[u8],
    input: &[u8],
    out: &mut Vec<u8>,
) -> io::Result<()> {
    let level_buf_size = match level {
        0 => ffi::ISAL_DEF_LVL0_DEFAULT,
        1 => ffi::ISAL_DEF_LVL1_DEFAULT,
        2 => ffi::ISAL_DEF_LVL2_DEFAULT,
        3 => ffi::ISAL_DEF_LVL3_DEFAULT,
        _ => return Err(io::Error::other(format!("invalid igzip level {level}"))),
    };
    let input_len = u32::try_from(input.len())
        .map_err(|_| io::Error::other("igzip: block larger than 4 GiB"))?;
    let mut level_buf = vec![0u8; level_buf_size as usize];
    let mut stream: Box<MaybeUninit<ffi::isal_zstream>> = Box::new_uninit();
    // SAFETY: `isal_deflate_init` writes every field the library reads before any other call
    // (it is the documented initialiser of a caller-allocated stream).
    let mut stream: Box<ffi::isal_zstream> = unsafe {
        ffi::isal_deflate_init(stream.as_mut_ptr());
        stream.assume_init()
    };
    stream.level = level;
    stream.level_buf = level_buf.as_mut_ptr();
    stream.level_buf_size = level_buf_size;
    stream.gzip_flag = ffi::IGZIP_DEFLATE as u16;
    stream.flush = ffi::SYNC_FLUSH as u16;
    stream.end_of_stream = 0;
    let dict = &dict[dict.len().saturating_sub(32 << 10)..];
    if !dict.is_empty() {
        // SAFETY: the library copies the dictionary into the stream's own history before it
        // returns; it does not write through the pointer (the binding's `*mut` is the C
        // header's missing `const`) and keeps no reference to it.
        let rc = unsafe {
            ffi::isal_deflate_set_dict(&mut *stream, dict.as_ptr().cast_mut(), dict.len() as u32)
        };
        if rc != ffi::COMP_OK as i32 {
            return Err(io::Error::other(format!("igzip: set_dict failed ({rc})")));
        }
    }
    stream.next_in = input.as_ptr().cast_mut();
    stream.avail_in = input_len;
    // Incompressible input grows by a few bytes per 64 KiB stored block; more room is added
    // whenever the library fills what it was given.
    out.reserve(input.len() + input.len() / 16 + 1024);
    loop {
        let start = out.len();
        let room = out.capacity() - start;
        let room32 = u32::try_from(room).unwrap_or(u32::MAX);
        stream.next_out = out.spare_capacity_mut().as_mut_ptr().cast::<u8>();
        stream.avail_out = room32;
        // SAFETY: `next_in`/`avail_in` describe `input` (read only, alive for this call),
        // `next_out`/`avail_out` the spare capacity of `out`, and `level_buf` is the buffer
        // of the size the level asks for, alive until the stream is dropped below.
        let rc = unsafe { ffi::isal_deflate(&mut *stream) };
        if rc != ffi::COMP_OK as i32 {
            return Err(io::Error::other(format!("igzip: deflate failed ({rc})")));
        }
        let written = (room32 - stream.avail_out) as usize;
        // SAFETY: the library initialised the first `written` bytes of the spare capacity.
        unsafe { out.set_len(start + written) };
        let flushed = stream.avail_in == 0
            && stream.internal_state.state == ffi::isal_zstate_state_ZSTATE_NEW_HDR;
        if flushed {
            break;
        }
        out.reserve(64 << 10);
    }
    // The stream points into `level_buf` and `input`; drop it first.
    drop(stream);
    drop(level_buf);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn sync_flushed_blocks_join_into_one_stream() {
        let text = b"stream layers are compressed block by block ".repeat(5000);
        let random: Vec<u8> = (0..200_000u32)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
            .collect();
        for level in 0..=3 {
            let mut out = Vec::new();
            deflate_sync(level, &[], &text, &mut out).unwrap();
            assert_eq!(&out[out.len() - 4..], &[0, 0, 0xff, 0xff], "level {level}");
            deflate_sync(level, &text, &random, &mut out).unwrap();
            deflate_sync(level, &random, &[], &mut out).unwrap();
            deflate_sync(level, &[], &text, &mut out).unwrap();
            out.extend_from_slice(&[3, 0]); // an empty final block
            let mut plain = Vec::new();
            flate2::read::DeflateDecoder::new(&out[..])
                .read_to_end(&mut plain)
                .unwrap();
            assert_eq!(plain.len(), 2 * text.len() + random.len());
            assert!(plain[..text.len()] == text[..]);
            assert!(plain[text.len()..text.len() + random.len()] == random[..]);
        }
    }
}
