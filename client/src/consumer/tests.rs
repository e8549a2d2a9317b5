//! Consumer tests against the fake broker.
