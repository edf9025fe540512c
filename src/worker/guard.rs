//! Panic isolation at the message boundary: a panic while working on one message is that
//! message's failure (retried, then dead-lettered with its reason), never the end of the
//! consumer that took it, which would leave the message unsettled and the queue unconsumed.

use std::{any::Any, future::Future, panic::AssertUnwindSafe};

use futures_util::FutureExt;

/// A unit of work panicked; carried as that unit's failure so its message can be settled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("panicked: {0}")]
pub struct Panicked(String);

impl Panicked {
    /// Reads the message of a panic payload (`panic!` makes a `&str` or a `String`).
    fn from_payload(payload: Box<dyn Any + Send>) -> Self {
        let message = match payload.downcast::<String>() {
            Ok(message) => *message,
            Err(payload) => payload
                .downcast_ref::<&str>()
                .map_or_else(|| "a panic without a message".to_owned(), |s| (*s).to_owned()),
        };
        Self(message)
    }

    /// What the panic said.
    pub fn message(&self) -> &str {
        &self.0
    }
}

/// Runs `work` to the end, turning a panic inside it into `Err(Panicked)` so that its caller
/// settles the message and keeps consuming.
///
/// Asserting unwind safety is sound for the work a worker does: its database transaction rolls
/// back when dropped mid-way, tokio mutexes are not poisoned and release on drop, and the shared
/// state it reads (matching model, mapping) is never left half-written by it.
pub async fn guarded<F: Future>(work: F) -> Result<F::Output, Panicked> {
    AssertUnwindSafe(work)
        .catch_unwind()
        .await
        .map_err(Panicked::from_payload)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn work_that_finishes_gives_its_output() {
        assert_eq!(guarded(async { 7 }).await, Ok(7));
    }

    #[tokio::test]
    async fn a_panic_becomes_an_error_carrying_its_message() {
        let static_message = guarded(async { panic!("end byte index 2 is not a char boundary") }).await;
        assert_eq!(
            static_message.map_err(|p| p.to_string()),
            Err::<(), _>("panicked: end byte index 2 is not a char boundary".to_owned())
        );
        let name = "Søren";
        let formatted = guarded(async move { panic!("cannot encode {name}") }).await;
        assert_eq!(
            formatted.map_err(|p| p.message().to_owned()),
            Err::<(), _>("cannot encode Søren".to_owned())
        );
    }

    #[tokio::test]
    async fn a_panic_after_an_await_is_caught_too() {
        let result = guarded(async {
            tokio::task::yield_now().await;
            let empty: Vec<u8> = Vec::new();
            empty[3]
        })
        .await;
        assert!(result.is_err_and(|p| p.message().contains("index out of bounds")));
    }
}
