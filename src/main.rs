use clap::Parser;

fn main() -> anyhow::Result<()> {
    let cli = rtmp_probe_cli::Cli::parse();
    cli.run()
}

mod rtmp_probe_cli {
    use clap::Parser;

    /// RTMP interoperability testing and fuzzing.
    #[derive(Debug, Parser)]
    #[command(name = "rtmp-probe", version, about)]
    pub struct Cli {}

    impl Cli {
        pub fn run(self) -> anyhow::Result<()> {
            Ok(())
        }
    }
}
