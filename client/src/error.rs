//! The client's error type and Kafka's error codes.
//!
//! [`Error`] is `Clone` on purpose: one failed produce request fails every record of every
//! batch in it, and one poisoned connection fails every request waiting on it, so the same
//! error has to reach many waiters. I/O errors are therefore kept behind an `Arc`.

use std::fmt;
use std::io;
use std::sync::Arc;

/// Everything that can go wrong in kt-client.
#[derive(Debug, Clone, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The broker answered with a Kafka error code.
    #[error("{context}: {code}")]
    Kafka {
        /// The error code, with Kafka's name.
        code: KafkaCode,
        /// What was being done (topic, partition, group...).
        context: String,
    },
    /// Nothing listens on that address (TCP connection refused).
    #[error("cannot reach {broker}: connection refused (is a broker running there?)")]
    ConnectionRefused {
        /// `host:port` that refused.
        broker: String,
    },
    /// Connecting failed for another reason (DNS, unreachable, ...).
    #[error("cannot connect to {broker}: {source}")]
    Connect {
        /// `host:port` we tried.
        broker: String,
        /// The underlying error.
        source: Arc<io::Error>,
    },
    /// Reading or writing an established connection failed.
    #[error("I/O error on the connection to {broker}: {source}")]
    Io {
        /// `host:port` of the connection.
        broker: String,
        /// The underlying error.
        source: Arc<io::Error>,
    },
    /// The connection was closed (by the peer, or because an earlier request on it failed).
    #[error("connection to {broker} closed: {reason}")]
    ConnectionClosed {
        /// `host:port` of the connection.
        broker: String,
        /// Why it is closed.
        reason: String,
    },
    /// The TLS handshake failed (untrusted or expired certificate, wrong name, a plaintext
    /// port, a rejected client certificate).
    #[error("TLS handshake with {broker} failed: {reason}")]
    Tls {
        /// `host:port` of the broker.
        broker: String,
        /// What rustls reported.
        reason: String,
    },
    /// An operation did not finish in time.
    #[error("timed out: {0}")]
    Timeout(String),
    /// The peer sent something that is not valid Kafka protocol.
    #[error("protocol error: {0}")]
    Protocol(String),
    /// A record batch failed validation (CRC, lengths, magic, compression).
    #[error("corrupt record batch: {0}")]
    CorruptRecord(String),
    /// The broker does not speak any version of an API that we speak.
    #[error(
        "{broker} does not support {api} in a version kt speaks (kt: {ours_min}..={ours_max}, broker: {theirs})"
    )]
    UnsupportedVersion {
        /// The broker.
        broker: String,
        /// The API's name, e.g. `Fetch`.
        api: String,
        /// Lowest version kt speaks.
        ours_min: i16,
        /// Highest version kt speaks.
        ours_max: i16,
        /// What the broker advertised, or "not advertised".
        theirs: String,
    },
    /// The configuration or an argument is invalid.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// The producer or consumer was closed.
    #[error("closed: {0}")]
    Closed(String),
    /// A record is larger than the producer may send.
    #[error("record too large: {size} bytes, limit {limit} ({setting})")]
    RecordTooLarge {
        /// Estimated encoded size.
        size: usize,
        /// The limit that was hit.
        limit: usize,
        /// Which setting holds the limit.
        setting: &'static str,
    },
    /// Encoding a request failed (a bug in kt, or a value out of the protocol's range).
    #[error("cannot encode request: {0}")]
    Encode(String),
}

impl Error {
    /// Whether retrying the same operation (after refreshing metadata) may succeed.
    pub fn is_retriable(&self) -> bool {
        match self {
            Error::Kafka { code, .. } => code.is_retriable(),
            Error::Io { .. } | Error::ConnectionClosed { .. } | Error::Timeout(_) => true,
            Error::ConnectionRefused { .. } | Error::Connect { .. } => true,
            _ => false,
        }
    }

    /// The Kafka error code, if this is a Kafka error.
    pub fn kafka_code(&self) -> Option<KafkaCode> {
        match self {
            Error::Kafka { code, .. } => Some(*code),
            _ => None,
        }
    }

    /// A Kafka error for `code` with `context`.
    pub fn kafka(code: impl Into<KafkaCode>, context: impl Into<String>) -> Self {
        Error::Kafka {
            code: code.into(),
            context: context.into(),
        }
    }
}

macro_rules! kafka_codes {
    ($( $variant:ident = $code:literal, $retriable:literal, $name:literal; )*) => {
        /// A Kafka error code, named as in the protocol guide's error table.
        ///
        /// `Unknown` keeps codes this version of kt does not know, so nothing is lost.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        pub enum KafkaCode {
            $(
                #[doc = concat!("`", $name, "` (", stringify!($code), ")")]
                $variant,
            )*
            /// A code kt does not know.
            Unknown(i16),
        }

        impl KafkaCode {
            /// The numeric code on the wire.
            pub fn code(self) -> i16 {
                match self {
                    $( KafkaCode::$variant => $code, )*
                    KafkaCode::Unknown(c) => c,
                }
            }

            /// Kafka's name for the code, e.g. `NOT_LEADER_OR_FOLLOWER`.
            pub fn name(self) -> &'static str {
                match self {
                    $( KafkaCode::$variant => $name, )*
                    KafkaCode::Unknown(_) => "UNKNOWN_CODE",
                }
            }

            /// Whether Kafka's Java client treats this error as retriable.
            pub fn is_retriable(self) -> bool {
                match self {
                    $( KafkaCode::$variant => $retriable, )*
                    KafkaCode::Unknown(_) => false,
                }
            }
        }

        impl From<i16> for KafkaCode {
            fn from(code: i16) -> Self {
                match code {
                    $( $code => KafkaCode::$variant, )*
                    other => KafkaCode::Unknown(other),
                }
            }
        }
    };
}

kafka_codes! {
    UnknownServerError = -1, false, "UNKNOWN_SERVER_ERROR";
    None = 0, false, "NONE";
    OffsetOutOfRange = 1, false, "OFFSET_OUT_OF_RANGE";
    CorruptMessage = 2, true, "CORRUPT_MESSAGE";
    UnknownTopicOrPartition = 3, true, "UNKNOWN_TOPIC_OR_PARTITION";
    InvalidFetchSize = 4, false, "INVALID_FETCH_SIZE";
    LeaderNotAvailable = 5, true, "LEADER_NOT_AVAILABLE";
    NotLeaderOrFollower = 6, true, "NOT_LEADER_OR_FOLLOWER";
    RequestTimedOut = 7, true, "REQUEST_TIMED_OUT";
    BrokerNotAvailable = 8, false, "BROKER_NOT_AVAILABLE";
    ReplicaNotAvailable = 9, true, "REPLICA_NOT_AVAILABLE";
    MessageTooLarge = 10, false, "MESSAGE_TOO_LARGE";
    StaleControllerEpoch = 11, false, "STALE_CONTROLLER_EPOCH";
    OffsetMetadataTooLarge = 12, false, "OFFSET_METADATA_TOO_LARGE";
    NetworkException = 13, true, "NETWORK_EXCEPTION";
    CoordinatorLoadInProgress = 14, true, "COORDINATOR_LOAD_IN_PROGRESS";
    CoordinatorNotAvailable = 15, true, "COORDINATOR_NOT_AVAILABLE";
    NotCoordinator = 16, true, "NOT_COORDINATOR";
    InvalidTopicException = 17, false, "INVALID_TOPIC_EXCEPTION";
    RecordListTooLarge = 18, false, "RECORD_LIST_TOO_LARGE";
    NotEnoughReplicas = 19, true, "NOT_ENOUGH_REPLICAS";
    NotEnoughReplicasAfterAppend = 20, true, "NOT_ENOUGH_REPLICAS_AFTER_APPEND";
    InvalidRequiredAcks = 21, false, "INVALID_REQUIRED_ACKS";
    IllegalGeneration = 22, false, "ILLEGAL_GENERATION";
    InconsistentGroupProtocol = 23, false, "INCONSISTENT_GROUP_PROTOCOL";
    InvalidGroupId = 24, false, "INVALID_GROUP_ID";
    UnknownMemberId = 25, false, "UNKNOWN_MEMBER_ID";
    InvalidSessionTimeout = 26, false, "INVALID_SESSION_TIMEOUT";
    RebalanceInProgress = 27, false, "REBALANCE_IN_PROGRESS";
    InvalidCommitOffsetSize = 28, false, "INVALID_COMMIT_OFFSET_SIZE";
    TopicAuthorizationFailed = 29, false, "TOPIC_AUTHORIZATION_FAILED";
    GroupAuthorizationFailed = 30, false, "GROUP_AUTHORIZATION_FAILED";
    ClusterAuthorizationFailed = 31, false, "CLUSTER_AUTHORIZATION_FAILED";
    InvalidTimestamp = 32, false, "INVALID_TIMESTAMP";
    UnsupportedSaslMechanism = 33, false, "UNSUPPORTED_SASL_MECHANISM";
    IllegalSaslState = 34, false, "ILLEGAL_SASL_STATE";
    UnsupportedVersion = 35, false, "UNSUPPORTED_VERSION";
    TopicAlreadyExists = 36, false, "TOPIC_ALREADY_EXISTS";
    InvalidPartitions = 37, false, "INVALID_PARTITIONS";
    InvalidReplicationFactor = 38, false, "INVALID_REPLICATION_FACTOR";
    InvalidReplicaAssignment = 39, false, "INVALID_REPLICA_ASSIGNMENT";
    InvalidConfig = 40, false, "INVALID_CONFIG";
    NotController = 41, true, "NOT_CONTROLLER";
    InvalidRequest = 42, false, "INVALID_REQUEST";
    UnsupportedForMessageFormat = 43, false, "UNSUPPORTED_FOR_MESSAGE_FORMAT";
    PolicyViolation = 44, false, "POLICY_VIOLATION";
    OutOfOrderSequenceNumber = 45, false, "OUT_OF_ORDER_SEQUENCE_NUMBER";
    DuplicateSequenceNumber = 46, false, "DUPLICATE_SEQUENCE_NUMBER";
    InvalidProducerEpoch = 47, false, "INVALID_PRODUCER_EPOCH";
    InvalidTxnState = 48, false, "INVALID_TXN_STATE";
    InvalidProducerIdMapping = 49, false, "INVALID_PRODUCER_ID_MAPPING";
    InvalidTransactionTimeout = 50, false, "INVALID_TRANSACTION_TIMEOUT";
    ConcurrentTransactions = 51, true, "CONCURRENT_TRANSACTIONS";
    TransactionCoordinatorFenced = 52, false, "TRANSACTION_COORDINATOR_FENCED";
    TransactionalIdAuthorizationFailed = 53, false, "TRANSACTIONAL_ID_AUTHORIZATION_FAILED";
    SecurityDisabled = 54, false, "SECURITY_DISABLED";
    OperationNotAttempted = 55, false, "OPERATION_NOT_ATTEMPTED";
    KafkaStorageError = 56, true, "KAFKA_STORAGE_ERROR";
    LogDirNotFound = 57, false, "LOG_DIR_NOT_FOUND";
    SaslAuthenticationFailed = 58, false, "SASL_AUTHENTICATION_FAILED";
    UnknownProducerId = 59, false, "UNKNOWN_PRODUCER_ID";
    ReassignmentInProgress = 60, false, "REASSIGNMENT_IN_PROGRESS";
    DelegationTokenAuthDisabled = 61, false, "DELEGATION_TOKEN_AUTH_DISABLED";
    DelegationTokenNotFound = 62, false, "DELEGATION_TOKEN_NOT_FOUND";
    DelegationTokenOwnerMismatch = 63, false, "DELEGATION_TOKEN_OWNER_MISMATCH";
    DelegationTokenRequestNotAllowed = 64, false, "DELEGATION_TOKEN_REQUEST_NOT_ALLOWED";
    DelegationTokenAuthorizationFailed = 65, false, "DELEGATION_TOKEN_AUTHORIZATION_FAILED";
    DelegationTokenExpired = 66, false, "DELEGATION_TOKEN_EXPIRED";
    InvalidPrincipalType = 67, false, "INVALID_PRINCIPAL_TYPE";
    NonEmptyGroup = 68, false, "NON_EMPTY_GROUP";
    GroupIdNotFound = 69, false, "GROUP_ID_NOT_FOUND";
    FetchSessionIdNotFound = 70, true, "FETCH_SESSION_ID_NOT_FOUND";
    InvalidFetchSessionEpoch = 71, true, "INVALID_FETCH_SESSION_EPOCH";
    ListenerNotFound = 72, true, "LISTENER_NOT_FOUND";
    TopicDeletionDisabled = 73, false, "TOPIC_DELETION_DISABLED";
    FencedLeaderEpoch = 74, true, "FENCED_LEADER_EPOCH";
    UnknownLeaderEpoch = 75, true, "UNKNOWN_LEADER_EPOCH";
    UnsupportedCompressionType = 76, false, "UNSUPPORTED_COMPRESSION_TYPE";
    StaleBrokerEpoch = 77, false, "STALE_BROKER_EPOCH";
    OffsetNotAvailable = 78, true, "OFFSET_NOT_AVAILABLE";
    MemberIdRequired = 79, false, "MEMBER_ID_REQUIRED";
    PreferredLeaderNotAvailable = 80, true, "PREFERRED_LEADER_NOT_AVAILABLE";
    GroupMaxSizeReached = 81, false, "GROUP_MAX_SIZE_REACHED";
    FencedInstanceId = 82, false, "FENCED_INSTANCE_ID";
    EligibleLeadersNotAvailable = 83, true, "ELIGIBLE_LEADERS_NOT_AVAILABLE";
    ElectionNotNeeded = 84, true, "ELECTION_NOT_NEEDED";
    NoReassignmentInProgress = 85, false, "NO_REASSIGNMENT_IN_PROGRESS";
    GroupSubscribedToTopic = 86, false, "GROUP_SUBSCRIBED_TO_TOPIC";
    InvalidRecord = 87, false, "INVALID_RECORD";
    UnstableOffsetCommit = 88, true, "UNSTABLE_OFFSET_COMMIT";
    ThrottlingQuotaExceeded = 89, true, "THROTTLING_QUOTA_EXCEEDED";
    ProducerFenced = 90, false, "PRODUCER_FENCED";
    ResourceNotFound = 91, false, "RESOURCE_NOT_FOUND";
    DuplicateResource = 92, false, "DUPLICATE_RESOURCE";
    UnacceptableCredential = 93, false, "UNACCEPTABLE_CREDENTIAL";
    InconsistentVoterSet = 94, false, "INCONSISTENT_VOTER_SET";
    InvalidUpdateVersion = 95, false, "INVALID_UPDATE_VERSION";
    FeatureUpdateFailed = 96, false, "FEATURE_UPDATE_FAILED";
    PrincipalDeserializationFailure = 97, false, "PRINCIPAL_DESERIALIZATION_FAILURE";
    SnapshotNotFound = 98, false, "SNAPSHOT_NOT_FOUND";
    PositionOutOfRange = 99, false, "POSITION_OUT_OF_RANGE";
    UnknownTopicId = 100, true, "UNKNOWN_TOPIC_ID";
    DuplicateBrokerRegistration = 101, false, "DUPLICATE_BROKER_REGISTRATION";
    BrokerIdNotRegistered = 102, false, "BROKER_ID_NOT_REGISTERED";
    InconsistentTopicId = 103, true, "INCONSISTENT_TOPIC_ID";
    InconsistentClusterId = 104, false, "INCONSISTENT_CLUSTER_ID";
    TransactionalIdNotFound = 105, false, "TRANSACTIONAL_ID_NOT_FOUND";
    FetchSessionTopicIdError = 106, true, "FETCH_SESSION_TOPIC_ID_ERROR";
    IneligibleReplica = 107, false, "INELIGIBLE_REPLICA";
    NewLeaderElected = 108, false, "NEW_LEADER_ELECTED";
    OffsetMovedToTieredStorage = 109, false, "OFFSET_MOVED_TO_TIERED_STORAGE";
    FencedMemberEpoch = 110, false, "FENCED_MEMBER_EPOCH";
    UnreleasedInstanceId = 111, false, "UNRELEASED_INSTANCE_ID";
    UnsupportedAssignor = 112, false, "UNSUPPORTED_ASSIGNOR";
    StaleMemberEpoch = 113, false, "STALE_MEMBER_EPOCH";
    MismatchedEndpointType = 114, false, "MISMATCHED_ENDPOINT_TYPE";
    UnsupportedEndpointType = 115, false, "UNSUPPORTED_ENDPOINT_TYPE";
    UnknownControllerId = 116, false, "UNKNOWN_CONTROLLER_ID";
    UnknownSubscriptionId = 117, false, "UNKNOWN_SUBSCRIPTION_ID";
    TelemetryTooLarge = 118, false, "TELEMETRY_TOO_LARGE";
    InvalidRegistration = 119, false, "INVALID_REGISTRATION";
    TransactionAbortable = 120, false, "TRANSACTION_ABORTABLE";
    InvalidRecordState = 121, false, "INVALID_RECORD_STATE";
    ShareSessionNotFound = 122, true, "SHARE_SESSION_NOT_FOUND";
    InvalidShareSessionEpoch = 123, true, "INVALID_SHARE_SESSION_EPOCH";
    FencedStateEpoch = 124, false, "FENCED_STATE_EPOCH";
    InvalidVoterKey = 125, false, "INVALID_VOTER_KEY";
    DuplicateVoter = 126, false, "DUPLICATE_VOTER";
    VoterNotFound = 127, false, "VOTER_NOT_FOUND";
    InvalidRegularExpression = 128, false, "INVALID_REGULAR_EXPRESSION";
    RebootstrapRequired = 129, false, "REBOOTSTRAP_REQUIRED";
}

impl fmt::Display for KafkaCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KafkaCode::Unknown(c) => write!(f, "unknown Kafka error code {c}"),
            other => write!(f, "{} ({})", other.name(), other.code()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn known_codes_keep_kafka_names() {
        assert_eq!(KafkaCode::from(6), KafkaCode::NotLeaderOrFollower);
        assert_eq!(KafkaCode::from(6).name(), "NOT_LEADER_OR_FOLLOWER");
        assert_eq!(KafkaCode::from(79), KafkaCode::MemberIdRequired);
        assert_eq!(KafkaCode::from(-1), KafkaCode::UnknownServerError);
        assert_eq!(KafkaCode::from(0), KafkaCode::None);
        assert_eq!(
            KafkaCode::OffsetOutOfRange.to_string(),
            "OFFSET_OUT_OF_RANGE (1)"
        );
    }

    #[test]
    fn retriable_follows_the_java_client() {
        assert!(KafkaCode::NotLeaderOrFollower.is_retriable());
        assert!(KafkaCode::LeaderNotAvailable.is_retriable());
        assert!(KafkaCode::UnknownTopicOrPartition.is_retriable());
        assert!(KafkaCode::CoordinatorNotAvailable.is_retriable());
        assert!(!KafkaCode::OffsetOutOfRange.is_retriable());
        assert!(!KafkaCode::TopicAlreadyExists.is_retriable());
        assert!(!KafkaCode::RebalanceInProgress.is_retriable());
        assert!(!KafkaCode::Unknown(4242).is_retriable());
    }

    #[test]
    fn unknown_codes_survive() {
        assert_eq!(KafkaCode::from(4242), KafkaCode::Unknown(4242));
        assert_eq!(KafkaCode::Unknown(4242).code(), 4242);
        assert!(KafkaCode::Unknown(4242).to_string().contains("4242"));
    }

    #[test]
    fn refused_is_its_own_variant_with_a_hint() {
        let e = Error::ConnectionRefused {
            broker: "127.0.0.1:9092".into(),
        };
        assert!(e.to_string().contains("127.0.0.1:9092"));
        assert!(e.to_string().contains("is a broker running"));
    }

    proptest! {
        #[test]
        fn code_round_trips(code in any::<i16>()) {
            prop_assert_eq!(KafkaCode::from(code).code(), code);
        }
    }
}
