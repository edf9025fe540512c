//! The blocking-key index answers from rare keys even when another key is very common.

use clientsync::{
    reconcile::Field,
    store::{clients, match_keys},
};

use crate::helpers::{Backend, spawn_app};

on_both_backends!(a_common_key_is_skipped_without_crowding_out_the_rare_one);

async fn a_common_key_is_skipped_without_crowding_out_the_rare_one(backend: Backend) {
    let app = spawn_app(backend).await;
    let common = "n:garcia".to_owned();
    for i in 0..150 {
        let client = clients::create(&app.db, &[(Field::Email, Some(format!("g{i}@example.com")))])
            .await
            .expect("client");
        match_keys::insert(&app.db, client, std::slice::from_ref(&common))
            .await
            .expect("keys");
    }
    let rare = clients::create(&app.db, &[(Field::Email, Some("ana@example.com".into()))])
        .await
        .expect("client");
    match_keys::insert(&app.db, rare, &["p:612345678".to_owned(), common.clone()])
        .await
        .expect("keys");

    let found = match_keys::lock_and_find(&app.db, &[common.clone(), "p:612345678".into()], 64)
        .await
        .expect("lookup");
    assert_eq!(
        found,
        vec![rare],
        "the common key is too common to use; the phone finds one"
    );

    let none = match_keys::lock_and_find(&app.db, &[common], 64)
        .await
        .expect("lookup");
    assert!(none.is_empty());
}
