//! Turning an error into what a person reads: one line, a hint when there is one, and an exit
//! code a script can test.
//!
//! The whole cause chain is searched for errors kt knows (the client's, the broker's), so a
//! failure deep inside a streaming batch still gets the same hint as one from `kt topic list`.

use std::fmt;

use kt_client::{Error as ClientError, KafkaCode};

/// Exit code for errors without a more specific one.
pub(crate) const EXIT_ERROR: u8 = 1;
/// Exit code when the broker cannot be reached.
pub(crate) const EXIT_UNREACHABLE: u8 = 3;
/// Exit code when the broker answered with a Kafka error code.
pub(crate) const EXIT_KAFKA: u8 = 4;

/// An error ready to print.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) message: String,
    pub(crate) hint: Option<String>,
    pub(crate) code: u8,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "kt: {}", self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, " — {hint}")?;
        }
        Ok(())
    }
}

/// Explains `err`; `bootstrap` is what the user asked to connect to.
pub(crate) fn explain(err: &anyhow::Error, bootstrap: &str) -> Failure {
    // `{:#}` prints the context chain on one line: "creating topic 'x': TOPIC_ALREADY_EXISTS".
    let message = one_line(&format!("{err:#}"));
    for cause in err.chain() {
        if let Some(client) = cause.downcast_ref::<ClientError>() {
            return explain_client(client, message, bootstrap);
        }
        if let Some(broker) = cause.downcast_ref::<kt_broker::BrokerError>() {
            // The broker's own messages already carry their hint (e.g. "pick another with --listen").
            return Failure {
                message: one_line(&broker.to_string()),
                hint: None,
                code: EXIT_ERROR,
            };
        }
    }
    Failure {
        message,
        hint: None,
        code: EXIT_ERROR,
    }
}

fn explain_client(err: &ClientError, message: String, bootstrap: &str) -> Failure {
    match err {
        ClientError::ConnectionRefused { broker } | ClientError::Connect { broker, .. } => {
            Failure {
                message: format!("cannot reach {broker}"),
                hint: Some(if broker_is_default(bootstrap) {
                    "is a broker running? start one with `kt broker`".to_string()
                } else {
                    format!(
                        "is a broker running at {bootstrap}? check -b/--bootstrap-server \
                         (or start one with `kt broker --listen {bootstrap}`)"
                    )
                }),
                code: EXIT_UNREACHABLE,
            }
        }
        ClientError::Kafka { code, .. } => Failure {
            hint: kafka_hint(*code),
            message,
            code: EXIT_KAFKA,
        },
        ClientError::Timeout(_) => Failure {
            message,
            hint: Some(format!(
                "the broker at {bootstrap} did not answer in time; is it overloaded or stopped?"
            )),
            code: EXIT_UNREACHABLE,
        },
        _ => Failure {
            message,
            hint: None,
            code: EXIT_ERROR,
        },
    }
}

fn kafka_hint(code: KafkaCode) -> Option<String> {
    let hint = match code {
        KafkaCode::UnknownTopicOrPartition => {
            "the topic does not exist: create it with `kt topic create NAME`, or list topics with `kt topic list`"
        }
        KafkaCode::TopicAlreadyExists => "add --if-not-exists to accept an existing topic",
        KafkaCode::InvalidTopicException => {
            "topic names use letters, digits, '.', '_' and '-' (at most 249 characters)"
        }
        KafkaCode::InvalidReplicationFactor => {
            "kt broker keeps one replica: use --replication-factor 1"
        }
        KafkaCode::InvalidPartitions => "the partition count must be at least 1",
        _ => return None,
    };
    Some(hint.to_string())
}

fn broker_is_default(bootstrap: &str) -> bool {
    bootstrap == "127.0.0.1:9092" || bootstrap == "localhost:9092"
}

/// Error messages may quote peer input; keep the output to one line.
fn one_line(s: &str) -> String {
    s.split(['\n', '\r'])
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_connection_suggests_kt_broker() {
        let err = anyhow::Error::new(ClientError::ConnectionRefused {
            broker: "127.0.0.1:9092".into(),
        })
        .context("listing topics");
        let f = explain(&err, "127.0.0.1:9092");
        assert_eq!(f.code, EXIT_UNREACHABLE);
        assert_eq!(
            f.to_string(),
            "kt: cannot reach 127.0.0.1:9092 — is a broker running? start one with `kt broker`"
        );
    }

    #[test]
    fn kafka_errors_keep_their_name_and_get_a_hint() {
        let err = anyhow::Error::new(ClientError::kafka(
            KafkaCode::TopicAlreadyExists,
            "topic 'mytopic'",
        ))
        .context("creating topic 'mytopic'");
        let f = explain(&err, "127.0.0.1:9092");
        assert_eq!(f.code, EXIT_KAFKA);
        assert!(f.message.contains("TOPIC_ALREADY_EXISTS"), "{}", f.message);
        assert!(f.to_string().contains("--if-not-exists"));
        assert!(!f.to_string().contains('\n'));
    }

    #[test]
    fn other_errors_are_one_line() {
        let err = anyhow::anyhow!("line one\nline two").context("reading input");
        let f = explain(&err, "127.0.0.1:9092");
        assert_eq!(f.code, EXIT_ERROR);
        assert_eq!(f.to_string(), "kt: reading input: line one line two");
    }
}
