//! The `ocikit` command. Skeleton: the commands arrive with the CLI issue.

fn main() {
    eprintln!("ocikit: no commands yet");
    std::process::exit(2);
}
