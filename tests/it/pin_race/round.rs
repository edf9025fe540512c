//! One round's world, built through the real engine and steward: client C fed by the lone
//! HubSpot contact R, client D founded by ClickUp task TD holding the email R will gain, and
//! what the operator acts on (a field mismatch on C, a pin on C, or a doubtful task Q offered C).
//! Every value of a round carries the round's token, so rounds sharing a store never meet
//! (no key, phone or name blocking key in common), and a round's state reads the same as
//! another's once the token and names are replaced (`state`).

use clientsync::{
    domain::{Actor, ids::ClientId, source::Source},
    engine::{self, Outcome, ProcessError},
    receiver,
    reconcile::Matching,
    sources::{self, mapping::FieldMapping},
    steward::{self, Destination, Resolution},
    store::{
        self,
        conflicts::{self, ConflictFilter},
        exclusions::RecordRef,
    },
};
use entity::conflicts::{ConflictKind, ConflictStatus};
use sea_orm::DatabaseConnection;
use serde_json::json;
use uuid::Uuid;

use crate::helpers::{
    Backend, CLICKUP_WEBHOOK, clickup_task_update, fresh_postgres_database, hubspot_property, test_config,
};

/// Event times: one block of a hundred milliseconds per round, so every event id is its own.
const T0: i64 = 1_780_000_000_000;

/// A database the rounds share, on one backend, with a pool the two racers draw from.
pub struct Store {
    /// The pool: each racer's transaction takes a connection of its own.
    pub db: DatabaseConnection,
    /// The default matching configuration, as a worker has it.
    pub matching: Matching,
    /// The Postgres database's name, on that backend.
    pub postgres: Option<String>,
    _dir: tempfile::TempDir,
}

impl Store {
    /// A fresh, migrated database on `backend`.
    pub async fn open(backend: Backend) -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut config = test_config(&dir);
        let mut postgres = None;
        if backend == Backend::Production {
            let url = fresh_postgres_database().await;
            postgres = url.rsplit('/').next().map(str::to_owned);
            config.database.url = secrecy::SecretString::from(url);
        }
        let db = store::connect(&config.database).await.expect("connect");
        store::migrate(&db).await.expect("migrations");
        Self {
            db,
            matching: Matching::default(),
            postgres,
            _dir: dir,
        }
    }

    /// Applies one HubSpot contact property change, as a worker would.
    pub async fn hubspot(
        &self,
        contact: i64,
        property: &str,
        value: &str,
        at: i64,
    ) -> Result<Outcome, ProcessError> {
        let body =
            serde_json::to_vec(&json!([hubspot_property(contact, property, value, at)])).expect("json");
        let mut outcome = Outcome::Ignored;
        for env in receiver::hubspot::split(&body).expect("a valid batch") {
            let effect = sources::effect(&env, &FieldMapping::default());
            outcome = engine::process(&self.db, &self.matching, &env, &effect, 1).await?;
        }
        Ok(outcome)
    }

    /// Applies one ClickUp task update carrying `(item id, field, value)` history items.
    async fn clickup(&self, task: &str, items: &[(&str, &str, &str)], at: i64) -> Outcome {
        let body = serde_json::to_vec(&clickup_task_update(task, items, at)).expect("json");
        let env = receiver::clickup::envelope(&body, CLICKUP_WEBHOOK).expect("a valid event");
        let effect = sources::effect(&env, &FieldMapping::default());
        engine::process(&self.db, &self.matching, &env, &effect, 1)
            .await
            .expect("task applied")
    }
}

/// Round `i` of a race: its names, keys and objects.
#[derive(Debug, Clone)]
pub struct Round {
    /// Seven digits every email, phone, object id and event of the round carries.
    pub token: String,
    /// The given name R (and, in the link race, R2 and Q) goes by.
    pub given: String,
    /// The family name R (and, in the link race, R2 and Q) goes by.
    pub family: String,
}

/// Consonants whose Double Metaphone codes all differ, so generated names never share a
/// phonetic blocking key with another round's (of the first 729, 9 to the power 3).
const SOUNDS: [&str; 9] = ["b", "k", "t", "l", "m", "n", "r", "s", "f"];

fn word(digits: [usize; 3], vowels: [&str; 3]) -> String {
    let spelled: String = digits
        .iter()
        .zip(vowels)
        .map(|(d, v)| format!("{}{v}", SOUNDS[*d]))
        .collect();
    let mut chars = spelled.chars();
    chars
        .next()
        .map(|first| first.to_uppercase().chain(chars).collect())
        .unwrap_or_default()
}

/// Where C and D ended up after the setup, and what the operator will act on.
#[derive(Debug, Clone, Copy)]
pub struct Placed {
    /// The client R alone feeds.
    pub c: ClientId,
    /// The client TD founded, whose email R gains.
    pub d: ClientId,
    /// The conflict the operator resolves, if the race is a resolution.
    pub conflict: Option<Uuid>,
}

impl Round {
    /// Round `i`'s values, none shared with another round's.
    pub fn new(i: usize) -> Self {
        let d = [i % 9, (i / 9) % 9, (i / 81) % 9];
        Self {
            token: format!("{i:07}"),
            given: word([d[0], d[1], d[2]], ["a", "i", "o"]),
            family: word([d[2], d[0], d[1]], ["e", "u", "a"]),
        }
    }

    /// HubSpot contact R's id.
    pub fn r(&self) -> i64 {
        format!("9{}", self.token).parse().expect("digits")
    }
    fn namesake(&self) -> i64 {
        format!("8{}", self.token).parse().expect("digits")
    }
    /// The email of `who` (r, r2 or d).
    pub fn email(&self, who: &str) -> String {
        format!("{who}.{}@race.example", self.token)
    }
    /// Phone line `line` of the round: 1 is R's, 2 is T's, 9 the value an operator pins.
    pub fn phone(&self, line: u8) -> String {
        format!("+34 6{line}{}", self.token)
    }
    /// The ClickUp id of task `role` (t, d or q).
    pub fn task(&self, role: &str) -> String {
        format!("{role}{}", self.token)
    }
    /// The time (and HubSpot event id) of the round's event number `step`.
    pub fn at(&self, step: i64) -> i64 {
        T0 + self.token.parse::<i64>().expect("digits") * 100 + step
    }
    /// The operator acting on this round's objects.
    pub fn racer(&self) -> Actor {
        Actor::cli(Some(&format!("racer{}", self.token)))
    }

    /// Every record of the round by its role: `(source, external id, role)`.
    pub fn records(&self) -> Vec<(Source, String, &'static str)> {
        vec![
            (Source::HubSpot, format!("contact:{}", self.r()), "R"),
            (Source::HubSpot, format!("contact:{}", self.namesake()), "R2"),
            (Source::ClickUp, format!("task:{}", self.task("t")), "T"),
            (Source::ClickUp, format!("task:{}", self.task("d")), "TD"),
            (Source::ClickUp, format!("task:{}", self.task("q")), "Q"),
        ]
    }

    /// R and D: a contact with a name, an email of its own and a phone, on a client of its
    /// own; and a task holding only the email R will gain.
    async fn r_and_d(&self, store: &Store) -> (ClientId, ClientId) {
        let c = linked(self.contact(store, self.r(), "r", 0).await);
        let item = format!("h{}d", self.token);
        let d = store
            .clickup(
                &self.task("d"),
                &[(item.as_str(), "Email", &self.email("d"))],
                self.at(10),
            )
            .await;
        (c, linked(d))
    }

    /// Applies a contact's email, names and phone (the same events again are duplicates).
    async fn contact(&self, store: &Store, id: i64, who: &str, step: i64) -> Outcome {
        let base = if who == "r" { 0 } else { 20 } + step;
        let values = [
            ("email", self.email(who)),
            ("firstname", self.given.clone()),
            ("lastname", self.family.clone()),
            ("phone", self.phone(1)),
        ];
        let mut outcome = Outcome::Ignored;
        for (k, (property, value)) in (0..).zip(values) {
            outcome = store
                .hubspot(id, property, &value, self.at(base + k))
                .await
                .expect("contact applied");
        }
        outcome
    }

    /// C holds R and task T, whose phone differs: a field_mismatch on C's phone. The operator
    /// decides it (`decided`), then moves T to a client of its own, and R is alone on C.
    async fn decided_then_alone(
        &self,
        store: &Store,
        decided: Resolution,
    ) -> (ClientId, ClientId, Uuid, Uuid) {
        let (c, d) = self.r_and_d(store).await;
        let (a, b) = (format!("h{}a", self.token), format!("h{}b", self.token));
        let on = store
            .clickup(
                &self.task("t"),
                &[
                    (a.as_str(), "Email", &self.email("r")),
                    (b.as_str(), "Phone", &self.phone(2)),
                ],
                self.at(12),
            )
            .await;
        assert_eq!(on, Outcome::Linked(c), "task T joins C by its email");
        let filter = ConflictFilter {
            status: Some(ConflictStatus::Open),
            kind: Some(ConflictKind::FieldMismatch),
            client: Some(c),
            limit: 10,
            ..ConflictFilter::default()
        };
        let open = conflicts::list(&store.db, &filter).await.expect("conflicts");
        assert_eq!(open.len(), 1, "the phones disagree: {open:?}");
        let setup = Actor::cli(Some("setup"));
        steward::resolve(&store.db, &store.matching, open[0].id, decided, &setup)
            .await
            .expect("resolved");
        let audited = store::audit::AuditFilter {
            target_id: Some(open[0].id.to_string()),
            limit: 10,
            ..Default::default()
        };
        let resolution = store::audit::list(&store.db, &audited).await.expect("audit")[0].id;
        let t = RecordRef {
            source: Source::ClickUp,
            external_id: format!("task:{}", self.task("t")),
        };
        steward::move_record(
            &store.db,
            &store.matching,
            &t,
            Destination::NewClient,
            None,
            &setup,
        )
        .await
        .expect("moved");
        (c, d, open[0].id, resolution)
    }

    /// C fed by R alone, with an open field_mismatch on its phone: T's side was decided, T
    /// left, and the decision was undone, which opens the conflict again.
    pub async fn mismatch_on_lone_client(&self, store: &Store) -> Placed {
        let (c, d, conflict, resolution) = self.decided_then_alone(store, Resolution::KeepHubspot).await;
        let setup = Actor::cli(Some("setup"));
        steward::undo(&store.db, &store.matching, resolution, None, &setup)
            .await
            .expect("undone");
        Placed {
            c,
            d,
            conflict: Some(conflict),
        }
    }

    /// C fed by R alone, its phone pinned to T's value, which an operator accepted before T left.
    pub async fn pin_on_lone_client(&self, store: &Store) -> Placed {
        let (c, d, _, _) = self.decided_then_alone(store, Resolution::AcceptClickup).await;
        Placed { c, d, conflict: None }
    }

    /// A namesake R2 with the same phone and another email founds a client of its own, and
    /// task Q, holding only the name and the phone, is doubtful between R's C and R2's.
    pub async fn doubtful_between_c_and_another(&self, store: &Store) -> Placed {
        let (c, d) = self.r_and_d(store).await;
        self.contact(store, self.namesake(), "r2", 0).await;
        let (a, b) = (format!("h{}e", self.token), format!("h{}f", self.token));
        let name = format!("{} {}", self.given, self.family);
        let q = store
            .clickup(
                &self.task("q"),
                &[(a.as_str(), "name", &name), (b.as_str(), "Phone", &self.phone(1))],
                self.at(40),
            )
            .await;
        assert_eq!(q, Outcome::Ambiguous, "Q fits R and R2 alike");
        let filter = ConflictFilter {
            status: Some(ConflictStatus::Open),
            kind: Some(ConflictKind::AmbiguousMatch),
            limit: 1000,
            ..ConflictFilter::default()
        };
        let doubtful = conflicts::list(&store.db, &filter)
            .await
            .expect("conflicts")
            .into_iter()
            .find(|row| row.external_id == format!("task:{}", self.task("q")))
            .expect("Q's ambiguous_match");
        assert!(
            doubtful.candidates.to_string().contains(&c.to_string()),
            "C is offered: {}",
            doubtful.candidates
        );
        Placed {
            c,
            d,
            conflict: Some(doubtful.id),
        }
    }
}

fn linked(outcome: Outcome) -> ClientId {
    match outcome {
        Outcome::Linked(client) => client,
        other => panic!("expected a client, got {other:?}"),
    }
}
