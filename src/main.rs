mod cli;

fn main() {
    let cli = cli::Cli::parse_args();
    match cli.run() {
        Ok(code) => std::process::exit(code),
        Err(error) => {
            let code = cli::exit::code_for(&error);
            // A closed pipe is said nowhere, as with other Unix tools; everything else gets one
            // line, `rtmp-probe: <what>: <why>`.
            if code != cli::exit::PIPE_CLOSED {
                eprintln!("rtmp-probe: {error:#}");
            }
            std::process::exit(code);
        }
    }
}
