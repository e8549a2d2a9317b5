//! The broker request targets' shared driver and oracles.

use std::sync::Arc;
use std::time::Duration;

use kt_broker::Users;
use kt_broker::fuzzing::{Closed, Exchange, FuzzBroker};

/// Serves `data` as one connection's bytes on a fresh broker (paused time) and checks the
/// answers: a well-formed size prefix, the request's correlation id, no request waiting 60
/// virtual days (every wait a client can ask for is an int32 of milliseconds, under 25 days),
/// and no response the broker could not encode.
pub fn serve_and_check(
    data: &[u8],
    max_request: usize,
    users: Option<Arc<Users>>,
) -> (Vec<Exchange>, Closed) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("runtime");
    rt.block_on(async {
        let broker = FuzzBroker::new(max_request, users);
        let served = tokio::time::timeout(Duration::from_secs(60 * 86_400), broker.serve(data));
        let (exchanges, closed) = served.await.expect("a request hung for 60 virtual days");
        if let Closed::Encode(e) = &closed {
            panic!("the broker could not encode its own response: {e}");
        }
        for exchange in &exchanges {
            let Exchange::Response {
                correlation_id,
                frame,
                ..
            } = exchange
            else {
                continue;
            };
            assert!(frame.len() >= 4, "response frame of {} bytes", frame.len());
            let size = i32::from_be_bytes([frame[0], frame[1], frame[2], frame[3]]);
            assert_eq!(size as usize, frame.len() - 4, "size prefix");
            if let Some(correlation_id) = correlation_id {
                assert!(frame.len() >= 8, "response frame of {} bytes", frame.len());
                let id = i32::from_be_bytes([frame[4], frame[5], frame[6], frame[7]]);
                assert_eq!(id, *correlation_id, "correlation id");
            }
        }
        (exchanges, closed)
    })
}
