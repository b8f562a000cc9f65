//! The command line: `hush [serve] [--config FILE] [--<setting> VALUE …]`.
//!
//! The flags are generated from [`SETTINGS`], so `hush serve --help` always
//! lists every setting with its variable and default. This module only turns
//! arguments into [`Sources`]; checking values is the settings module's job.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Arg, ArgAction, Command};

use super::settings::{CONFIG_ENV, DEFAULT_CONFIG_FILE, SETTINGS, Sources};

/// Why the command line was not accepted, or a request for help or version
/// (which clap prints itself, with the right exit code).
pub enum CliError {
    /// Help or version text: print it and exit 0.
    Info(clap::Error),
    /// A mistake: one line, exit 2.
    Usage(String),
}

fn serve_command() -> Command {
    let mut serve = Command::new("serve")
        .about("Serve the app, the JSON API and Socket.IO (the default command)")
        .arg(
            Arg::new("config")
                .long("config")
                .value_name("FILE")
                .value_parser(clap::value_parser!(PathBuf))
                .help(format!(
                    "Settings file [env: {CONFIG_ENV}] [default: {DEFAULT_CONFIG_FILE}, if present]"
                )),
        );
    for def in SETTINGS {
        let default = if def.default.is_empty() {
            "empty"
        } else {
            def.default
        };
        serve = serve.arg(
            Arg::new(def.key)
                .long(def.flag)
                .value_name(def.value_name)
                .action(ArgAction::Set)
                .help(format!(
                    "{} [env: {}] [default: {default}]",
                    def.help, def.env
                )),
        );
    }
    serve
}

/// The whole command, for `--help` and for tests.
pub fn command() -> Command {
    Command::new("hush")
        .about("Hush: end-to-end encrypted real-time chat. Settings: defaults < Leptos.toml < HUSH_* variables < flags.")
        .version(env!("CARGO_PKG_VERSION"))
        .subcommand(serve_command())
}

/// Parses `args` (program name first) with `env` as the environment into
/// the sources `serve` loads its settings from (the only command so far).
pub fn parse<I, T>(args: I, env: Vec<(String, String)>) -> Result<Sources, CliError>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let matches = command().try_get_matches_from(args).map_err(|e| {
        use clap::error::ErrorKind::{DisplayHelp, DisplayVersion};
        match e.kind() {
            DisplayHelp | DisplayVersion => CliError::Info(e),
            _ => CliError::Usage(first_line(&e.to_string())),
        }
    })?;
    let mut sources = Sources {
        env,
        ..Sources::default()
    };
    if let Some(("serve", serve)) = matches.subcommand() {
        if let Some(def) = SETTINGS
            .iter()
            .find(|def| !def.command_line && serve.contains_id(def.key))
        {
            return Err(CliError::Usage(format!(
                "--{} is refused: every user of this machine can read a command line; set {} or `{}` in the settings file",
                def.flag, def.env, def.key
            )));
        }
        sources.config = serve.get_one::<PathBuf>("config").cloned();
        sources.flags = SETTINGS
            .iter()
            .filter_map(|def| {
                let value = serve.get_one::<String>(def.key)?;
                Some((def.key, value.clone()))
            })
            .collect();
    }
    Ok(sources)
}

fn first_line(text: &str) -> String {
    let line = text.lines().next().unwrap_or_default();
    line.strip_prefix("error: ").unwrap_or(line).to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn serve(args: &[&str]) -> Sources {
        match parse(args.iter().copied(), vec![]) {
            Ok(sources) => sources,
            Err(_) => panic!("{args:?} should parse"),
        }
    }

    #[test]
    fn command_is_well_formed() {
        command().debug_assert();
    }

    #[test]
    fn no_subcommand_means_serve_with_no_flags() {
        let sources = serve(&["hush"]);
        assert!(sources.flags.is_empty());
        assert!(sources.config.is_none());
    }

    #[test]
    fn flags_map_to_setting_keys() {
        let sources = serve(&[
            "hush",
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--data-dir",
            "/tmp/x",
            "--config",
            "other.toml",
        ]);
        assert_eq!(sources.config, Some(PathBuf::from("other.toml")));
        assert!(
            sources
                .flags
                .contains(&("listen", "127.0.0.1:0".to_owned()))
        );
        assert!(sources.flags.contains(&("data_dir", "/tmp/x".to_owned())));
    }

    #[test]
    fn regression_a_signing_key_is_refused_as_a_flag_without_echoing_it() {
        let secret = "q3Vv1b0Yl5o+8Jm2wH6cFzR0tXeK9uPnA4sGdLiE7yM=";
        match parse(["hush", "serve", "--token-secret", secret], Vec::new()) {
            Err(CliError::Usage(line)) => {
                assert!(line.contains("HUSH_TOKEN_SECRET"), "{line}");
                assert!(!line.contains(secret), "{line}");
            }
            _ => panic!("--token-secret must be refused"),
        }
    }

    #[test]
    fn an_unknown_flag_is_one_line_naming_it() {
        match parse(["hush", "serve", "--lisen", "x"], vec![]) {
            Err(CliError::Usage(line)) => {
                assert!(line.contains("--lisen"), "{line}");
                assert!(!line.contains('\n'));
            }
            _ => panic!("an unknown flag must be refused"),
        }
    }

    #[test]
    fn help_lists_every_setting() {
        let help = serve_command().render_long_help().to_string();
        for def in SETTINGS {
            assert!(help.contains(&format!("--{}", def.flag)), "{}", def.flag);
            assert!(help.contains(def.env), "{}", def.env);
        }
    }
}
