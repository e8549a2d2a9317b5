//! Access control lists (`--acl FILE`): which principal may do what to which topic, group or
//! the cluster, evaluated the way Kafka's `StandardAuthorizer` does.
//!
//! # File format
//!
//! One rule per line; `#` starts a comment.
//!
//! ```text
//! # allow|deny  PRINCIPAL   OPERATIONS          RESOURCE
//! allow         User:alice  produce             topic:orders
//! allow         User:bob    consume             topic:orders
//! allow         User:bob    read                group:billing-*
//! allow         User:*      describe            topic:*
//! deny          User:eve    all                 topic:*
//! super         User:admin
//! ```
//!
//! - PRINCIPAL: `User:NAME`, or `User:*` for anyone. Without SASL every client is
//!   `User:ANONYMOUS`; with SASL (`--users`) the authenticated user name.
//! - OPERATIONS, comma-separated, Kafka's names: `read`, `write`, `create`, `delete`, `alter`,
//!   `describe`, `describe_configs`, `alter_configs`, `idempotent_write`, `cluster_action`,
//!   `all`; shorthands `produce` (= write, describe) and `consume` (= read, describe).
//! - RESOURCE: `topic:NAME`, `topic:PREFIX*` (prefixed), `topic:*` (any), the same for `group:`,
//!   or `cluster`.
//! - `super PRINCIPAL` makes a super user, allowed everything (Kafka's `super.users`).
//!
//! # Evaluation
//!
//! With an ACL file, a request is allowed only when an `allow` rule matches and no `deny` rule
//! does (deny wins; nothing matching means denied, Kafka's default with an authorizer). As in
//! Kafka, `describe` is implied by `read`, `write`, `delete` and `alter`, and
//! `describe_configs` by `alter_configs`. What each API needs is in `api/route.rs`.

use std::path::Path;

/// What a request wants to do (Kafka's `AclOperation`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Operation {
    Read,
    Write,
    Create,
    Delete,
    Alter,
    Describe,
    DescribeConfigs,
    AlterConfigs,
    IdempotentWrite,
    ClusterAction,
}

impl Operation {
    /// Operations that, when allowed, also allow `self` (Kafka's implied operations).
    fn implied_by(self) -> &'static [Operation] {
        use Operation::*;
        match self {
            Describe => &[Read, Write, Delete, Alter],
            DescribeConfigs => &[AlterConfigs],
            _ => &[],
        }
    }
}

/// What a request acts on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Resource<'a> {
    Topic(&'a str),
    Group(&'a str),
    Cluster,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Pattern {
    Any,
    Literal(String),
    Prefixed(String),
}

impl Pattern {
    fn parse(s: &str) -> Option<Pattern> {
        if s.is_empty() {
            return None;
        }
        Some(if s == "*" {
            Pattern::Any
        } else if let Some(prefix) = s.strip_suffix('*') {
            Pattern::Prefixed(prefix.to_owned())
        } else {
            Pattern::Literal(s.to_owned())
        })
    }

    fn matches(&self, name: &str) -> bool {
        match self {
            Pattern::Any => true,
            Pattern::Literal(l) => l == name,
            Pattern::Prefixed(p) => name.starts_with(p.as_str()),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum ResourcePattern {
    Topic(Pattern),
    Group(Pattern),
    Cluster,
}

impl ResourcePattern {
    fn matches(&self, r: Resource<'_>) -> bool {
        match (self, r) {
            (ResourcePattern::Topic(p), Resource::Topic(t)) => p.matches(t),
            (ResourcePattern::Group(p), Resource::Group(g)) => p.matches(g),
            (ResourcePattern::Cluster, Resource::Cluster) => true,
            _ => false,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Rule {
    allow: bool,
    /// User name, or None for `User:*`.
    user: Option<String>,
    /// None: `all`.
    operations: Option<Vec<Operation>>,
    resource: ResourcePattern,
}

impl Rule {
    fn applies(&self, user: &str, op: Operation, r: Resource<'_>) -> bool {
        let ops_match = |o: Operation| match &self.operations {
            None => true,
            Some(ops) => ops.contains(&o),
        };
        self.user.as_deref().is_none_or(|u| u == user)
            && self.resource.matches(r)
            && (ops_match(op) || (self.allow && op.implied_by().iter().any(|o| ops_match(*o))))
    }
}

/// A parsed ACL file.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Acl {
    rules: Vec<Rule>,
    super_users: Vec<String>,
}

/// Why an ACL file was refused: the file, the line and what is wrong there.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}: {message}")]
pub(crate) struct AclError {
    file: String,
    line: usize,
    message: String,
}

fn parse_user(s: &str) -> Result<Option<String>, String> {
    match s.strip_prefix("User:") {
        Some("*") => Ok(None),
        Some(name) if !name.is_empty() => Ok(Some(name.to_owned())),
        _ => Err(format!("principal {s:?} must be User:NAME or User:*")),
    }
}

fn parse_operations(s: &str) -> Result<Option<Vec<Operation>>, String> {
    use Operation::*;
    let mut ops = Vec::new();
    for word in s.split(',') {
        match word.to_ascii_lowercase().as_str() {
            "all" => return Ok(None),
            "read" => ops.push(Read),
            "write" => ops.push(Write),
            "create" => ops.push(Create),
            "delete" => ops.push(Delete),
            "alter" => ops.push(Alter),
            "describe" => ops.push(Describe),
            "describe_configs" => ops.push(DescribeConfigs),
            "alter_configs" => ops.push(AlterConfigs),
            "idempotent_write" => ops.push(IdempotentWrite),
            "cluster_action" => ops.push(ClusterAction),
            "produce" => ops.extend([Write, Describe]),
            "consume" => ops.extend([Read, Describe]),
            other => return Err(format!("unknown operation {other:?}")),
        }
    }
    Ok(Some(ops))
}

fn parse_resource(s: &str) -> Result<ResourcePattern, String> {
    let bad =
        || format!("resource {s:?} must be topic:NAME, group:NAME (NAME may end in *) or cluster");
    if s == "cluster" {
        return Ok(ResourcePattern::Cluster);
    }
    let (kind, name) = s.split_once(':').ok_or_else(bad)?;
    let pattern = Pattern::parse(name).ok_or_else(bad)?;
    match kind {
        "topic" => Ok(ResourcePattern::Topic(pattern)),
        "group" => Ok(ResourcePattern::Group(pattern)),
        _ => Err(bad()),
    }
}

impl Acl {
    /// Parses ACL text; `file` names it in errors.
    pub(crate) fn parse(text: &str, file: &str) -> Result<Acl, AclError> {
        let mut acl = Acl::default();
        for (n, line) in text.lines().enumerate() {
            let err = |message: String| AclError {
                file: file.to_owned(),
                line: n + 1,
                message,
            };
            let line = line.split('#').next().unwrap_or("").trim();
            let words: Vec<&str> = line.split_whitespace().collect();
            match words.as_slice() {
                [] => {}
                ["super", principal] => match parse_user(principal).map_err(err)? {
                    Some(user) => acl.super_users.push(user),
                    None => return Err(err("a super user must be one User:NAME".to_owned())),
                },
                [verb @ ("allow" | "deny"), principal, ops, resource] => acl.rules.push(Rule {
                    allow: *verb == "allow",
                    user: parse_user(principal).map_err(&err)?,
                    operations: parse_operations(ops).map_err(&err)?,
                    resource: parse_resource(resource).map_err(&err)?,
                }),
                _ => {
                    return Err(err(
                        "expected `allow|deny PRINCIPAL OPERATIONS RESOURCE` or `super PRINCIPAL`"
                            .to_owned(),
                    ));
                }
            }
        }
        Ok(acl)
    }

    /// Reads and parses an ACL file.
    pub(crate) fn load(path: &Path) -> Result<Acl, AclError> {
        let file = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|e| AclError {
            file: file.clone(),
            line: 0,
            message: e.to_string(),
        })?;
        Acl::parse(&text, &file)
    }

    /// Whether `principal` (`User:NAME`) may do `op` on `resource`.
    pub(crate) fn allows(&self, principal: &str, op: Operation, resource: Resource<'_>) -> bool {
        let user = principal.strip_prefix("User:").unwrap_or(principal);
        if self.super_users.iter().any(|s| s == user) {
            return true;
        }
        let mut allowed = false;
        for rule in &self.rules {
            if rule.applies(user, op, resource) {
                if !rule.allow {
                    return false;
                }
                allowed = true;
            }
        }
        allowed
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Operation::*;

    const FILE: &str = "
        # orders: alice writes, bob reads in billing-* groups
        allow User:alice produce topic:orders
        allow User:bob   consume topic:orders   # trailing comment
        allow User:bob   read    group:billing-*
        allow User:*     describe topic:public.*
        allow User:carol all     topic:*
        deny  User:carol write   topic:audit
        allow User:ops   create  cluster
        super User:admin
    ";

    fn acl() -> Acl {
        Acl::parse(FILE, "acl.txt").unwrap()
    }

    #[test]
    fn allow_deny_prefix_wildcard_and_super() {
        let a = acl();
        assert!(a.allows("User:alice", Write, Resource::Topic("orders")));
        assert!(a.allows("User:alice", Describe, Resource::Topic("orders")));
        assert!(!a.allows("User:alice", Read, Resource::Topic("orders")));
        assert!(!a.allows("User:alice", Write, Resource::Topic("orders2")));
        assert!(a.allows("User:bob", Read, Resource::Topic("orders")));
        assert!(a.allows("User:bob", Read, Resource::Group("billing-eu")));
        assert!(!a.allows("User:bob", Read, Resource::Group("other")));
        assert!(a.allows("User:ANONYMOUS", Describe, Resource::Topic("public.news")));
        assert!(!a.allows("User:ANONYMOUS", Read, Resource::Topic("public.news")));
        // deny wins over all
        assert!(a.allows("User:carol", Write, Resource::Topic("x")));
        assert!(!a.allows("User:carol", Write, Resource::Topic("audit")));
        assert!(a.allows("User:carol", Read, Resource::Topic("audit")));
        // no topic rule covers the cluster
        assert!(!a.allows("User:carol", Create, Resource::Cluster));
        assert!(a.allows("User:ops", Create, Resource::Cluster));
        assert!(a.allows("User:admin", Delete, Resource::Group("anything")));
        assert!(!a.allows("User:nobody", Describe, Resource::Cluster));
    }

    #[test]
    fn implied_operations_follow_kafka() {
        let a = Acl::parse(
            "allow User:u alter_configs topic:t\nallow User:u delete group:g",
            "f",
        )
        .unwrap();
        assert!(a.allows("User:u", DescribeConfigs, Resource::Topic("t")));
        assert!(a.allows("User:u", Describe, Resource::Group("g")));
        assert!(!a.allows("User:u", Describe, Resource::Topic("t")));
        // a deny of read does not deny describe
        let a = Acl::parse("allow User:u all topic:t\ndeny User:u read topic:t", "f").unwrap();
        assert!(a.allows("User:u", Describe, Resource::Topic("t")));
        assert!(!a.allows("User:u", Read, Resource::Topic("t")));
    }

    #[test]
    fn errors_name_file_and_line() {
        for (text, want) in [
            ("allow User:a read", "expected"),
            ("allow alice read topic:t", "principal"),
            ("allow User:a fly topic:t", "unknown operation"),
            ("allow User:a read queue:t", "resource"),
            ("allow User:a read topic:", "resource"),
            ("super User:*", "super user"),
        ] {
            let e = Acl::parse(&format!("# ok\n{text}"), "acl.txt").unwrap_err();
            let s = e.to_string();
            assert!(s.starts_with("acl.txt:2: ") && s.contains(want), "{s}");
        }
    }
}
