//! Common diminutives, so "Bill" and "William" or "Pepe" and "José" compare as close, not different.

/// (diminutive, canonical) in folded form; English and Spanish first, as the users are.
const NICKNAMES: &[(&str, &str)] = &[
    ("abby", "abigail"),
    ("al", "albert"),
    ("alex", "alexander"),
    ("andy", "andrew"),
    ("ben", "benjamin"),
    ("beth", "elizabeth"),
    ("betty", "elizabeth"),
    ("bill", "william"),
    ("billy", "william"),
    ("bob", "robert"),
    ("bobby", "robert"),
    ("cathy", "catherine"),
    ("chris", "christopher"),
    ("chuck", "charles"),
    ("charlie", "charles"),
    ("dan", "daniel"),
    ("danny", "daniel"),
    ("dave", "david"),
    ("debbie", "deborah"),
    ("dick", "richard"),
    ("ed", "edward"),
    ("eddie", "edward"),
    ("fred", "frederick"),
    ("greg", "gregory"),
    ("harry", "henry"),
    ("jack", "john"),
    ("jim", "james"),
    ("jimmy", "james"),
    ("joe", "joseph"),
    ("johnny", "john"),
    ("jon", "jonathan"),
    ("kate", "catherine"),
    ("katie", "catherine"),
    ("ken", "kenneth"),
    ("larry", "lawrence"),
    ("liz", "elizabeth"),
    ("maggie", "margaret"),
    ("matt", "matthew"),
    ("meg", "margaret"),
    ("mike", "michael"),
    ("mick", "michael"),
    ("nick", "nicholas"),
    ("pat", "patricia"),
    ("peggy", "margaret"),
    ("pete", "peter"),
    ("phil", "philip"),
    ("rick", "richard"),
    ("rob", "robert"),
    ("ron", "ronald"),
    ("sam", "samuel"),
    ("steve", "stephen"),
    ("sue", "susan"),
    ("tom", "thomas"),
    ("tommy", "thomas"),
    ("tony", "anthony"),
    ("vicky", "victoria"),
    ("will", "william"),
    ("jen", "jennifer"),
    ("jenny", "jennifer"),
    ("josh", "joshua"),
    ("nate", "nathan"),
    ("zach", "zachary"),
    ("pepe", "jose"),
    ("paco", "francisco"),
    ("pancho", "francisco"),
    ("curro", "francisco"),
    ("quique", "enrique"),
    ("nacho", "ignacio"),
    ("chema", "jose maria"),
    ("lola", "dolores"),
    ("lolo", "manuel"),
    ("manolo", "manuel"),
    ("lupe", "guadalupe"),
    ("pili", "pilar"),
    ("charo", "rosario"),
    ("conchi", "concepcion"),
    ("concha", "concepcion"),
    ("merche", "mercedes"),
    ("maite", "maria teresa"),
    ("toni", "antonio"),
    ("tono", "antonio"),
    ("rafa", "rafael"),
    ("santi", "santiago"),
    ("fer", "fernando"),
    ("nando", "fernando"),
    ("javi", "javier"),
    ("alfonsito", "alfonso"),
    ("juanjo", "juan jose"),
    ("chus", "jesus"),
    ("chuy", "jesus"),
    ("kike", "enrique"),
    ("sole", "soledad"),
    ("rocio", "rocio"),
    ("isa", "isabel"),
    ("pau", "pablo"),
];

/// The canonical name a diminutive stands for, or the name itself when it is one of the canonicals.
pub fn canonical(folded: &str) -> Option<&'static str> {
    NICKNAMES.iter().find_map(|(nick, full)| {
        if *nick == folded || *full == folded {
            Some(*full)
        } else {
            None
        }
    })
}

/// A diminutive of a canonical name, if the table knows one.
pub fn nickname_of(folded: &str) -> Option<&'static str> {
    NICKNAMES
        .iter()
        .find(|(_, full)| *full == folded)
        .map(|(nick, _)| *nick)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_diminutive_and_its_name_share_a_canonical() {
        assert_eq!(canonical("bill"), canonical("william"));
        assert_eq!(canonical("pepe"), Some("jose"));
        assert_eq!(canonical("zebedee"), None);
    }
}
