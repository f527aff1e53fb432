#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;

use serde_json::{Value, json};

use super::*;

const LINES: &str = "units | Units quarantined | number 0..100000\n\
    action | What did you do? | choice Quarantined, Returned, Destroyed\n\
    serials | Serial numbers | serials 50 | optional\n\
    notes | Anything else | text 300 | optional\n\
    proof | Signed checklist | file | optional\n";

fn form() -> AttestationForm {
    AttestationForm::parse_lines(LINES).unwrap().unwrap()
}

fn given(v: Value) -> BTreeMap<String, Value> {
    serde_json::from_value(v).unwrap()
}

#[test]
fn the_console_lines_read_back_as_written() {
    let form = form();
    assert_eq!(form.fields.len(), 5);
    assert_eq!(form.fields[0].kind, FieldKind::Number { min: Some(0), max: Some(100_000) });
    assert!(!form.fields[2].required);
    assert_eq!(AttestationForm::parse_lines(&form.to_string()).unwrap().unwrap(), form);
    assert_eq!(AttestationForm::parse_lines("\r\n  \n").unwrap(), None, "blank lines ask nothing");
}

#[test]
fn bad_lines_are_named() {
    let errors = AttestationForm::parse_lines("units | Units | number 5..1\nx | X | colour\nNo Key | Y | text")
        .unwrap_err()
        .to_string();
    assert!(errors.contains("line 2: 'colour' is not a field type"), "{errors}");
    assert!(errors.contains("line 3: 'No Key' is not a valid key"), "{errors}");
    let errors = AttestationForm::parse_lines("units | Units | number 5..1").unwrap_err().to_string();
    assert!(errors.contains("is below min"), "{errors}");
}

#[test]
fn answers_are_checked_and_kept_in_one_shape() {
    let form = form();
    let answers = form
        .answer(&given(json!({
            "units": "14", "action": "Quarantined", "serials": "SN-1\r\nSN-2, SN-1\n", "notes": "", "proof": "DMS-7"
        })))
        .unwrap();
    assert_eq!(answers.to_json(), r#"{"action":"Quarantined","proof":"DMS-7","serials":["SN-1","SN-2"],"units":14}"#);
    // The same answers given another way hash the same.
    let again = form
        .answer(&given(json!({"units": 14, "serials": ["SN-1", "SN-2"], "action": "Quarantined", "proof": "DMS-7"})));
    assert_eq!(again.unwrap().hash(), answers.hash());

    let errors = form
        .answer(&given(json!({"units": -1, "action": "Sold", "serials": "bad serial!", "colour": "red"})))
        .unwrap_err()
        .to_string();
    for said in [
        "answers.colour: is not a field of this form",
        "answers.units: Units quarantined: must be at least 0",
        "answers.action: What did you do?: choose from: Quarantined, Returned, Destroyed",
        "answers.serials: Serial numbers: each serial number",
    ] {
        assert!(errors.contains(said), "{said} not in {errors}");
    }
    let missing = form.answer(&BTreeMap::new()).unwrap_err().to_string();
    assert!(missing.contains("Units quarantined is required") && missing.contains("What did you do? is required"));
}

#[test]
fn a_partners_answers_add_up() {
    let form = form();
    let mut rollup = Rollup::new(&form);
    for (units, action, serials) in [(10, "Quarantined", json!(["A", "B"])), (4, "Returned", json!(["C"]))] {
        rollup.add(&form.answer(&given(json!({"units": units, "action": action, "serials": serials}))).unwrap());
    }
    assert_eq!(
        rollup.describe(),
        "Units quarantined: 14; What did you do?: Quarantined 1, Returned 1; Serial numbers: 3 listed"
    );
}

#[test]
fn a_form_reads_from_json_and_refuses_unknown_names() {
    let form: AttestationForm = serde_json::from_value(json!({"fields": [
        {"key": "units", "label": "Units", "type": "number", "min": 0, "max": 10},
        {"key": "serials", "label": "Serials", "type": "serials", "max": 5, "required": false}
    ]}))
    .unwrap();
    assert_eq!(form.fields[1].kind, FieldKind::Serials { max: Some(5) });
    let unknown = serde_json::from_value::<AttestationForm>(json!({"fields": [
        {"key": "units", "label": "Units", "type": "number", "colour": "red"}
    ]}));
    assert!(unknown.unwrap_err().to_string().contains("colour"));
}
