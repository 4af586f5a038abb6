//! The crate's error type.

use std::path::PathBuf;

/// What can go wrong reading playbooks, preparing or sending a step.
#[derive(Debug, thiserror::Error)]
pub enum RespondError {
    /// A playbook file could not be read.
    #[error("cannot read playbook {path}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A playbook is not valid (syntax, schema or lint error), with where.
    #[error("{path}:{line}:{column}: {message}")]
    Invalid {
        /// The file.
        path: PathBuf,
        /// 1-based line (0 when unknown).
        line: usize,
        /// 1-based column (0 when unknown).
        column: usize,
        /// What is wrong.
        message: String,
    },
    /// A step's templates could not be rendered with the run's inputs.
    #[error("step {step}: {message}")]
    Render {
        /// Step id.
        step: String,
        /// What is wrong.
        message: String,
    },
    /// A secret a step names is not in the secrets file or environment.
    #[error("secret {name:?} is not defined")]
    MissingSecret {
        /// The secret's name (never its value).
        name: String,
    },
    /// A command action names a program outside the allow-list.
    #[error("program {program:?} is not on the command allow-list")]
    NotAllowed {
        /// The program as the playbook names it.
        program: String,
    },
    /// A file of the connectors' configuration (secrets, CA certificates) could not
    /// be read.
    #[error("cannot read {path}")]
    ReadConfig {
        /// The file.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The secrets (a file, or a `RAMPART_SECRET_*` variable shown as `$NAME`) are
    /// refused; the message never quotes a value.
    #[error("secrets {path}: {message}")]
    Secrets {
        /// The file or `$VARIABLE`.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// The connectors' configuration is not usable (CA file, allow-list, SMTP relay).
    #[error("connector configuration: {message}")]
    Config {
        /// What is wrong.
        message: String,
    },
}
