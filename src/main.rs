mod cli;

use clap::Parser;

fn main() {
    let cli = cli::Cli::parse();
    match cli.run() {
        Ok(code) => std::process::exit(code),
        Err(error) => {
            eprintln!("rtmp-probe: {error:#}");
            // Usage errors exit 2 like clap's own; anything that went wrong while working, 1.
            let usage = error.downcast_ref::<cli::UsageError>().is_some();
            std::process::exit(if usage { 2 } else { 1 });
        }
    }
}
