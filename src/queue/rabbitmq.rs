use super::*;
#[derive(Clone)]
pub struct RabbitConfig {
    pub url: secrecy::SecretString,
    pub queue_prefix: String,
    pub prefetch: u16,
    pub confirm_timeout: Duration,
    pub retry: RetryPolicy,
}
pub struct RabbitQueue;
impl RabbitQueue {
    pub fn new(_c: RabbitConfig) -> Self {
        Self
    }
}
#[async_trait]
impl EventQueue for RabbitQueue {
    async fn publish(&self, _b: &[Vec<u8>]) -> Result<(), QueueError> {
        Err(QueueError::Nacked)
    }
    async fn receive(&self, _w: Duration) -> Result<Option<Delivery>, QueueError> {
        Ok(None)
    }
    async fn ack(&self, _d: Delivery) -> Result<(), QueueError> {
        Ok(())
    }
    async fn retry(&self, _d: Delivery, _r: &str) -> Result<RetryOutcome, QueueError> {
        Ok(RetryOutcome::DeadLettered)
    }
    async fn dead_letter(&self, _d: Delivery, _r: &str) -> Result<(), QueueError> {
        Ok(())
    }
    async fn depth(&self) -> Result<Option<u64>, QueueError> {
        Ok(None)
    }
    async fn ping(&self) -> Result<(), QueueError> {
        Ok(())
    }
}
