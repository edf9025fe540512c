//! A CSV export, whatever its bytes (BOM, semicolons, quotes, ragged lines, invalid UTF-8),
//! read into records with the header mapped to client fields: never panics, and what it
//! returns is consistent (one profile per id, ids unique and non-empty, columns in range).
#![no_main]

use std::collections::HashSet;

use clientsync::{
    batch::{ColumnMap, ColumnOverride, read_from},
    reconcile::fuzzy::{ProfileOptions, blocking},
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let options = ProfileOptions { fold_gmail: true };
    check(read_from("fuzz.csv", data, None, &[], options));

    // The header line again, as the names a user might give to --id and --column.
    let header: Vec<String> = csv::ReaderBuilder::new()
        .from_reader(data)
        .headers()
        .map(|h| h.iter().map(str::to_owned).collect())
        .unwrap_or_default();
    for name in header.iter().take(4) {
        let overrides: Vec<ColumnOverride> = [format!("email={name}"), name.clone()]
            .iter()
            .filter_map(|spec| spec.parse().ok())
            .collect();
        if let Ok(map) = ColumnMap::resolve("fuzz.csv", &header, Some(name), &overrides) {
            assert!(map.id.is_some_and(|i| i < header.len()));
            assert!(map.fields.iter().all(|(_, i)| *i < header.len()));
        }
        check(read_from("fuzz.csv", data, Some(name), &overrides, options));
    }
});

fn check(read: Result<clientsync::batch::Records, clientsync::batch::BatchError>) {
    let Ok(records) = read else {
        return;
    };
    assert_eq!(records.ids.len(), records.profiles.len());
    let unique: HashSet<&String> = records.ids.iter().collect();
    assert_eq!(unique.len(), records.ids.len(), "ids repeat");
    assert!(records.ids.iter().all(|id| !id.is_empty()));
    for profile in &records.profiles {
        let _ = blocking::keys(profile);
    }
}
