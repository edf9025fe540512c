//! The race of an operator's decision about a client against the worker moving that client's
//! only record away (issue 16). R, a HubSpot contact, alone feeds client C; when R gains the
//! email task TD holds, the engine moves R onto TD's client D and deletes C. Meanwhile an
//! operator pins a value to resolve C's field mismatch, clears a pin on C, or links a doubtful
//! task onto C, in a transaction of its own.
//!
//! Each round starts both at once on separate connections of one pool. Whatever the
//! interleaving, each side succeeds or says why it could not (the conflict is resolved, the
//! client is not found), never with a store error, a deadlock or a panic; the round ends exactly
//! as one of the two serial orders ends it (played on rounds of their own first: operator then
//! engine, engine then operator), its audit log holding the operator's action exactly when it
//! took effect; and nothing in the store points at a removed client.

mod round;
mod state;

use std::time::{Duration, Instant};

use clientsync::{
    engine::{Outcome, ProcessError},
    reconcile::Field,
    steward::{self, Resolution, StewardError},
};

use crate::helpers::Backend;
use round::{Placed, Round, Store};
use state::{Names, deadlocks, nothing_points_at_a_removed_client, racer_audit, settled};

on_both_backends!(
    pinning_a_value_while_the_lone_record_moves_away_ends_as_one_of_the_two_orders_would,
    clearing_a_pin_while_the_lone_record_moves_away_ends_as_one_of_the_two_orders_would,
    linking_a_doubtful_record_while_the_lone_record_moves_away_ends_as_one_of_the_two_orders_would,
);

/// Raced rounds per test, after the two serial ones; `PIN_RACE_ROUNDS` asks for more (a soak),
/// up to the 727 whose generated names differ from every other round's.
fn rounds() -> usize {
    std::env::var("PIN_RACE_ROUNDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(30)
        .min(727)
}

async fn pinning_a_value_while_the_lone_record_moves_away_ends_as_one_of_the_two_orders_would(
    backend: Backend,
) {
    race(backend, Action::Pin).await;
}

async fn clearing_a_pin_while_the_lone_record_moves_away_ends_as_one_of_the_two_orders_would(
    backend: Backend,
) {
    race(backend, Action::ClearPin).await;
}

async fn linking_a_doubtful_record_while_the_lone_record_moves_away_ends_as_one_of_the_two_orders_would(
    backend: Backend,
) {
    race(backend, Action::Link).await;
}

/// What the operator does to C.
#[derive(Debug, Clone, Copy)]
enum Action {
    /// Resolves C's field mismatch on the phone by pinning a third value.
    Pin,
    /// Clears the pin on C's phone.
    ClearPin,
    /// Links task Q, doubtful between C and another client, onto C.
    Link,
}

/// Who goes first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Order {
    OperatorFirst,
    EngineFirst,
    /// Both at once, one starting a little after the other: the rounds sweep the head start
    /// from the operator's (a third of the engine's time) to the engine's (all of it), so
    /// every stretch of the engine's transaction meets the operator's.
    Together(HeadStart),
}

/// Which side starts first in a raced round, and by how long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HeadStart {
    Operator(Duration),
    Engine(Duration),
}

impl HeadStart {
    /// Round `k` of `n`'s head start, given how long the engine's transaction takes alone.
    fn sweep(k: usize, n: usize, engine_took: Duration) -> Self {
        let at = engine_took.mul_f64(4.0 * k as f64 / (3.0 * n as f64));
        match at.checked_sub(engine_took / 3) {
            Some(after) => HeadStart::Engine(after),
            None => HeadStart::Operator(engine_took / 3 - at),
        }
    }

    /// How long `who` waits before starting.
    fn wait(self, who: Side) -> Duration {
        match (self, who) {
            (HeadStart::Operator(d), Side::Engine) | (HeadStart::Engine(d), Side::Operator) => d,
            _ => Duration::ZERO,
        }
    }
}

/// One of the two racers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    Operator,
    Engine,
}

impl Action {
    async fn set_up(self, store: &Store, round: &Round) -> Placed {
        match self {
            Action::Pin => round.mismatch_on_lone_client(store).await,
            Action::ClearPin => round.pin_on_lone_client(store).await,
            Action::Link => round.doubtful_between_c_and_another(store).await,
        }
    }

    async fn run(self, store: &Store, round: &Round, placed: Placed) -> Result<(), StewardError> {
        let (db, matching, by) = (&store.db, &store.matching, &round.racer());
        let conflict = placed.conflict.unwrap_or_default();
        match self {
            Action::Pin => {
                let value = round.phone(9);
                steward::resolve(db, matching, conflict, Resolution::Pin { value }, by)
                    .await
                    .map(drop)
            }
            Action::ClearPin => steward::clear_pin(db, matching, placed.c, Field::Phone, by).await,
            Action::Link => {
                let client_id = placed.c.as_uuid();
                steward::resolve(db, matching, conflict, Resolution::Link { client_id }, by)
                    .await
                    .map(drop)
            }
        }
    }
}

/// Plays the two serial orders on rounds 0 and 1, then races the operator against the engine
/// on every further round and holds each to one of them.
async fn race(backend: Backend, action: Action) {
    let store = Store::open(backend).await;
    let (operator_first, _) = play(&store, action, &Round::new(0), Order::OperatorFirst).await;
    let (engine_first, engine_took) = play(&store, action, &Round::new(1), Order::EngineFirst).await;
    assert_ne!(operator_first, engine_first, "the two orders end differently");
    assert!(
        operator_first.iter().any(|l| l == "the operator: done"),
        "{operator_first:#?}"
    );
    assert!(
        engine_first.iter().any(|l| l == "the engine: linked to D"),
        "{engine_first:#?}"
    );
    let mut ended = [0; 2];
    let rounds = rounds();
    for k in 0..rounds {
        let i = 2 + k;
        let head_start = HeadStart::sweep(k, rounds, engine_took);
        let (raced, _) = play(&store, action, &Round::new(i), Order::Together(head_start)).await;
        let order = [&operator_first, &engine_first]
            .iter()
            .position(|serial| **serial == raced);
        let Some(order) = order else {
            panic!(
                "{action:?} round {i} on {backend:?} ended as neither order does:\n{raced:#?}\n\
                 operator first:\n{operator_first:#?}\nengine first:\n{engine_first:#?}"
            );
        };
        ended[order] += 1;
    }
    eprintln!(
        "{action:?} on {backend:?}: {} rounds ended as operator-then-engine, {} as engine-then-operator",
        ended[0], ended[1]
    );
    assert_eq!(
        deadlocks(store).await,
        0,
        "{action:?}: Postgres broke a deadlock between the two"
    );
}

/// Sets round `round` up, lets the operator and the engine go in `order`, checks what each
/// said and the store's invariants, and returns the round's end in words with how long the
/// engine took.
async fn play(store: &Store, action: Action, round: &Round, order: Order) -> (Vec<String>, Duration) {
    let placed = action.set_up(store, round).await;
    let wait = |who| match order {
        Order::Together(head_start) => head_start.wait(who),
        _ => Duration::ZERO,
    };
    let engine = async {
        tokio::time::sleep(wait(Side::Engine)).await;
        let started = Instant::now();
        let moved = store
            .hubspot(round.r(), "email", &round.email("d"), round.at(50))
            .await;
        (moved, started.elapsed())
    };
    let operator = async {
        tokio::time::sleep(wait(Side::Operator)).await;
        action.run(store, round, placed).await
    };
    let ((moved, engine_took), decided) = match order {
        Order::OperatorFirst => {
            let decided = operator.await;
            (engine.await, decided)
        }
        Order::EngineFirst => {
            let moved = engine.await;
            (moved, operator.await)
        }
        Order::Together(_) => tokio::join!(engine, operator),
    };
    let names = Names::of(store, round, &placed).await;
    let mut lines = settled(store, round, &names).await;
    lines.push(names.words(&format!("the engine: {}", engine_said(&moved))));
    lines.push(names.words(&format!("the operator: {}", operator_said(&decided))));
    let audited = racer_audit(store, round).await.len();
    assert_eq!(
        audited,
        usize::from(decided.is_ok()),
        "{action:?} round {} ({order:?}): the audit log holds the operator's action exactly when it took effect",
        round.token
    );
    nothing_points_at_a_removed_client(store).await;
    (lines, engine_took)
}

/// The engine's answer in words; a store error (a deadlock, a lost race) is a failure.
fn engine_said(moved: &Result<Outcome, ProcessError>) -> String {
    match moved {
        Ok(Outcome::Linked(client)) => format!("linked to {client}"),
        Ok(other) => format!("{other:?}"),
        Err(e) => panic!("the engine failed instead of applying the event: {e}"),
    }
}

/// The operator's answer in words: done, or why not; a store error is a failure.
fn operator_said(decided: &Result<(), StewardError>) -> String {
    match decided {
        Ok(()) => "done".to_owned(),
        Err(StewardError::Store(e)) => panic!("the operator's action failed in the store: {e}"),
        Err(e) => format!("refused: {e}"),
    }
}
