//! Whether a model's weights make sense before anything relies on them. EM without labels can
//! settle on nonsense (a prior of 0.80, a disagreeing document key worth −0.1 bits) and such a
//! model would link strangers; it is refused, naming the field and the weight.

use super::{
    compare::{DIFFERENT, EXACT},
    estimate::LAMBDA_MAX,
    model::Model,
};
use crate::reconcile::Field;

/// Lowest prior a model may hold: below it nothing short of an exact key would ever link.
pub const LAMBDA_MIN: f64 = 1e-6;

/// Identifiers whose disagreement must weigh strongly against a match, with the most bits a
/// disagreement may carry (a typo is `close`, so `disagree` means another value): −4 bits makes
/// a pair 16 times less likely. Phones and emails change more often than tax keys, so they
/// are allowed to count a little less.
const IDENTIFIERS: [(Field, f64); 3] = [
    (Field::DocumentKey, -4.0),
    (Field::Phone, -2.5),
    (Field::Email, -2.5),
];
/// Fewest bits an exact agreement on an identifier may carry.
const IDENTIFIER_AGREEMENT: f64 = 5.0;

/// Why a model was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Implausible {
    /// The prior is outside sane bounds.
    #[error(
        "the prior {lambda:.4} is outside [{LAMBDA_MIN}, {LAMBDA_MAX}]: with it a pair with no evidence would be {what}"
    )]
    Prior {
        /// The prior.
        lambda: f64,
        /// What that would mean.
        what: &'static str,
    },
    /// A weight points the wrong way or is too weak.
    #[error("{level} {field} weighs {bits:+.1} bits; a usable model puts it {limit}")]
    Weight {
        /// The field.
        field: &'static str,
        /// `agreeing` or `disagreeing`.
        level: &'static str,
        /// Its weight.
        bits: f64,
        /// What it should be.
        limit: String,
    },
}

/// Checks every bound; the first one broken is named.
pub fn check(model: &Model) -> Result<(), Implausible> {
    let lambda = model.lambda();
    if lambda > LAMBDA_MAX {
        return Err(Implausible::Prior {
            lambda,
            what: "more likely a match than not",
        });
    }
    if lambda < LAMBDA_MIN {
        return Err(Implausible::Prior {
            lambda,
            what: "beyond any evidence",
        });
    }
    for (field, limit) in IDENTIFIERS {
        let against = model.weight(field, DIFFERENT);
        if against > limit {
            return Err(Implausible::Weight {
                field: field.as_str(),
                level: "disagreeing",
                bits: against,
                limit: format!("at or below {limit:+.1} bits"),
            });
        }
        let agree = model.weight(field, EXACT);
        if agree < IDENTIFIER_AGREEMENT {
            return Err(Implausible::Weight {
                field: field.as_str(),
                level: "agreeing",
                bits: agree,
                limit: format!("at or above {IDENTIFIER_AGREEMENT:+.1} bits"),
            });
        }
    }
    for field in Field::MATCHED {
        let (agree, against) = (model.weight(field, EXACT), model.weight(field, DIFFERENT));
        if agree < 0.0 {
            return Err(Implausible::Weight {
                field: field.as_str(),
                level: "agreeing",
                bits: agree,
                limit: "at or above 0 bits (agreement is never evidence against)".to_owned(),
            });
        }
        if against > 0.0 {
            return Err(Implausible::Weight {
                field: field.as_str(),
                level: "disagreeing",
                bits: against,
                limit: "at or below 0 bits (disagreement is never evidence for)".to_owned(),
            });
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_model_is_plausible() {
        assert_eq!(check(&Model::default()), Ok(()));
    }

    #[test]
    fn a_runaway_prior_is_refused() {
        let model = Model {
            lambda: 0.80,
            ..Model::default()
        };
        let err = check(&model).unwrap_err().to_string();
        assert!(err.contains("prior 0.8000"), "{err}");
    }

    #[test]
    fn a_disagreeing_document_key_that_barely_counts_is_refused_by_name_and_weight() {
        let mut model = Model::default();
        let key = Field::DocumentKey.index();
        model.m[key] = [0.0, 0.40, 0.05, 0.01, 0.01, 0.53];
        model.u[key] = [0.0, 1e-6, 1e-5, 0.001, 0.001, 0.56];
        let err = check(&model).unwrap_err().to_string();
        assert!(err.contains("disagreeing document_key weighs -0.1 bits"), "{err}");
    }
}
