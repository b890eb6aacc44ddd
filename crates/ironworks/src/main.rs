fn main() -> std::process::ExitCode {
    ironworks::main()
}
