//! Stop requests from the running handle to the engine task.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use tokio::sync::watch;

use crate::error::StreamingError;

/// The latest stop request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum StopState {
    Running,
    Graceful,
    Now,
}

/// The sending side, held by the running handle.
#[derive(Debug)]
pub(crate) struct StopControl {
    tx: watch::Sender<StopState>,
    /// Set together with `Now`, for the output stage: it runs on a blocking
    /// thread and cannot be dropped, so it polls this between steps.
    cancel: Arc<AtomicBool>,
}

impl StopControl {
    pub(crate) fn new() -> (StopControl, StopSignal) {
        let (tx, rx) = watch::channel(StopState::Running);
        let cancel = Arc::new(AtomicBool::new(false));
        (
            StopControl {
                tx,
                cancel: Arc::clone(&cancel),
            },
            StopSignal { rx, cancel },
        )
    }

    pub(crate) fn request(&self, state: StopState) {
        if state == StopState::Now {
            self.cancel.store(true, Ordering::Release);
        }
        // A graceful request never downgrades an earlier `Now`.
        self.tx.send_if_modified(|current| {
            let upgrade = matches!(
                (*current, state),
                (StopState::Running, StopState::Graceful | StopState::Now)
                    | (StopState::Graceful, StopState::Now)
            );
            if upgrade {
                *current = state;
            }
            upgrade
        });
    }
}

/// The receiving side, held by the engine.
#[derive(Debug)]
pub(crate) struct StopSignal {
    rx: watch::Receiver<StopState>,
    cancel: Arc<AtomicBool>,
}

impl StopSignal {
    pub(crate) fn state(&self) -> StopState {
        *self.rx.borrow()
    }

    pub(crate) fn cancel_flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.cancel)
    }

    /// Resolves when any stop is requested (or the handle is gone).
    pub(crate) async fn any(&mut self) -> StopState {
        loop {
            let state = *self.rx.borrow_and_update();
            if state != StopState::Running {
                return state;
            }
            if self.rx.changed().await.is_err() {
                return StopState::Now;
            }
        }
    }

    /// Resolves when `Stop::Now` is requested (or the handle is gone).
    async fn now(&mut self) {
        loop {
            if *self.rx.borrow_and_update() == StopState::Now {
                return;
            }
            if self.rx.changed().await.is_err() {
                return;
            }
        }
    }

    /// Runs `fut` unless `Stop::Now` comes first, which drops it.
    pub(crate) async fn unless_now<F: Future>(
        &mut self,
        fut: F,
    ) -> Result<F::Output, StreamingError> {
        tokio::select! {
            biased;
            () = self.now() => Err(StreamingError::Cancelled),
            out = fut => Ok(out),
        }
    }
}
