//! Seeded populations: deterministic, and their ground truth adds up.

use serde_json::json;

use super::*;

#[tokio::test]
async fn the_same_seed_gives_the_same_population_and_its_truth_adds_up() {
    let scenario = Scenario {
        clients: 60,
        collisions: 2,
        ..Scenario::default()
    };
    let (a, b) = (start(SimConfig::default()), start(SimConfig::default()));
    let ta = a.seed_silently(&scenario).unwrap();
    let tb = b.seed_silently(&scenario).unwrap();
    assert_eq!(ta, tb);
    assert!(a.pending_events().is_empty(), "silent seeding sends nothing");
    let (pair_contact, pair_task) = &ta.in_both_pairs[0];
    assert_eq!(
        a.hubspot_object(ObjectType::Contact, pair_contact),
        b.hubspot_object(ObjectType::Contact, pair_contact)
    );
    assert_eq!(a.task(pair_task), b.task(pair_task));

    assert_eq!(ta.people.len(), 60);
    assert_eq!(ta.in_both_pairs.len(), 36);
    assert_eq!(
        ta.in_both_pairs.len() + ta.hubspot_only.len() + ta.clickup_only.len(),
        ta.expected_clients
    );
    assert_eq!(
        ta.hubspot_contacts,
        ta.in_both_pairs.len() + ta.hubspot_only.len()
    );
    assert_eq!(
        ta.clickup_tasks,
        ta.in_both_pairs.len() + ta.clickup_only.len() + 2
    );
    assert_eq!(ta.expected_field_conflicts, ta.typo_pairs + ta.phone_conflicts);
    assert_eq!(ta.expected_key_collisions, 2);
    let linked = (0..60)
        .filter(|i| ta.contact_of[*i].is_some() && ta.task_of[*i].is_some())
        .count();
    assert_eq!(linked, ta.in_both_pairs.len());
    let emails: std::collections::HashSet<_> = ta.people.iter().map(|p| &p.email).collect();
    let phones: std::collections::HashSet<_> = ta.people.iter().map(|p| &p.phone).collect();
    assert_eq!(
        (emails.len(), phones.len()),
        (60, 60),
        "no accidental shared keys"
    );

    let c = start(SimConfig::default());
    let tc = c.seed_with_webhooks(&scenario).unwrap();
    assert_eq!(tc, ta);
    let creations = c
        .pending_events()
        .iter()
        .filter(|e| e.body["subscriptionType"] == "contact.creation" || e.body["event"] == "taskCreated")
        .count();
    assert_eq!(creations, ta.hubspot_contacts + ta.clickup_tasks);
}

#[tokio::test]
async fn a_pair_in_both_systems_shares_a_key_and_a_collision_task_carries_two_peoples_keys() {
    let sim = start(SimConfig::default());
    let truth = sim.seed_silently(&Scenario::default()).unwrap();
    for (contact, task) in &truth.in_both_pairs {
        let h = sim.hubspot_object(ObjectType::Contact, contact).unwrap();
        let (_, t) = sim.task(task).unwrap();
        let email = h.get("email").is_some_and(|e| t.get("Email") == Some(&json!(e)));
        let tax = h
            .get("tax_id")
            .is_some_and(|k| t.get("Tax ID") == Some(&json!(k)));
        assert!(email || tax, "{h:?} vs {t:?}");
    }
    let (task, a, b) = &truth.collision_tasks[0];
    let (_, t) = sim.task(task).unwrap();
    assert_eq!(
        t["Email"],
        json!(sim.hubspot_object(ObjectType::Contact, a).unwrap()["email"])
    );
    assert_eq!(
        t["Tax ID"],
        json!(sim.hubspot_object(ObjectType::Contact, b).unwrap()["tax_id"])
    );
}
