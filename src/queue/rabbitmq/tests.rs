//! Against the real broker at TEST_AMQP_URL (default: the local RabbitMQ).

use std::time::Duration;

use super::*;

fn url() -> String {
    std::env::var("TEST_AMQP_URL").unwrap_or_else(|_| "amqp://guest:guest@127.0.0.1:5672/%2f".into())
}

fn queue_at(url: String) -> RabbitQueue {
    RabbitQueue::new(RabbitConfig {
        url: SecretString::from(url),
        queue_prefix: format!("clientsync-unit-{}", uuid::Uuid::new_v4().simple()),
        prefetch: 16,
        confirm_timeout: Duration::from_secs(5),
        retry: RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(50),
            max_delay: Duration::from_millis(100),
        },
    })
}

async fn next(queue: &RabbitQueue) -> Delivery {
    for _ in 0..50 {
        if let Some(d) = queue.receive(Duration::from_millis(200)).await.unwrap() {
            return d;
        }
    }
    panic!("no delivery within 10 s");
}

#[tokio::test]
async fn published_bodies_are_received_with_attempt_one_and_acked_away() {
    let queue = queue_at(url());
    queue.publish(&[b"a".to_vec(), b"b".to_vec()]).await.unwrap();
    let first = next(&queue).await;
    let second = next(&queue).await;
    assert_eq!((first.body.as_slice(), first.attempt), (&b"a"[..], 1));
    assert_eq!(second.body, b"b");
    queue.ack(first).await.unwrap();
    queue.ack(second).await.unwrap();
    assert!(queue.receive(Duration::from_millis(300)).await.unwrap().is_none());
    assert_eq!(queue.depth().await.unwrap(), Some(0));
    queue.delete_topology().await.unwrap();
}

#[tokio::test]
async fn a_retried_message_comes_back_after_its_delay_then_dead_letters_when_out_of_attempts() {
    let queue = queue_at(url());
    queue.publish(&[b"x".to_vec()]).await.unwrap();
    let d = next(&queue).await;
    assert_eq!(
        queue.retry(d, "boom").await.unwrap(),
        RetryOutcome::Scheduled(Duration::from_millis(50))
    );
    let d = next(&queue).await;
    assert_eq!(d.attempt, 2);
    assert!(matches!(
        queue.retry(d, "boom").await.unwrap(),
        RetryOutcome::Scheduled(_)
    ));
    let d = next(&queue).await;
    assert_eq!(d.attempt, 3);
    assert_eq!(queue.retry(d, "boom").await.unwrap(), RetryOutcome::DeadLettered);
    assert!(queue.receive(Duration::from_millis(300)).await.unwrap().is_none());

    let channel = queue.publisher_channel().await.unwrap();
    let dead = channel
        .basic_get(
            queue.dead.as_str().into(),
            lapin::options::BasicGetOptions::default(),
        )
        .await
        .unwrap()
        .expect("the dead queue holds the message");
    let headers = dead.delivery.properties.headers().clone().unwrap();
    let reason = headers.inner().get(DEAD_REASON_HEADER).cloned();
    assert!(matches!(reason, Some(AMQPValue::LongString(s)) if s.to_string() == "boom"));
    queue.delete_topology().await.unwrap();
}

#[tokio::test]
async fn a_closed_port_is_unavailable_quickly_and_the_error_hides_the_password() {
    let queue = queue_at("amqp://guest:hunter2@127.0.0.1:1/%2f".into());
    let started = std::time::Instant::now();
    let err = queue.publish(&[b"x".to_vec()]).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(5));
    assert!(matches!(err, QueueError::Unavailable(_)));
    assert!(!err.to_string().contains("hunter2"));
    assert!(queue.ping().await.is_err());
}

#[tokio::test]
async fn publishing_to_a_deleted_queue_is_never_reported_as_accepted() {
    let queue = queue_at(url());
    queue.declare().await.unwrap();
    let channel = queue.publisher_channel().await.unwrap();
    channel
        .queue_delete(queue.events.as_str().into(), QueueDeleteOptions::default())
        .await
        .unwrap();
    let err = queue.publish(&[b"x".to_vec()]).await.unwrap_err();
    assert!(matches!(err, QueueError::Unroutable), "{err:?}");
    queue.delete_topology().await.ok();
}

#[tokio::test]
async fn concurrent_publishes_are_all_confirmed() {
    let queue = std::sync::Arc::new(queue_at(url()));
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let queue = queue.clone();
            tokio::spawn(async move { queue.publish(&vec![format!("{i}").into_bytes(); 10]).await })
        })
        .collect();
    for task in tasks {
        task.await.unwrap().unwrap();
    }
    assert_eq!(queue.depth().await.unwrap(), Some(80));
    queue.delete_topology().await.unwrap();
}
