//! The rules, table by table: every office's pass/fail, every combination of the gate,
//! card cancellation and exact money.

use rust_decimal::Decimal;

use super::{
    model::*,
    rules::{self, CardRefusal, Office},
};

fn library(
    books: u32,
    fines_fen: i64,
    violations: u32,
    cancelled: bool,
    thesis: LibraryThesisStatus,
) -> LibraryFacts {
    LibraryFacts {
        books_out: books,
        fines: Decimal::new(fines_fen, 2),
        violations,
        card_cancelled: cancelled,
        thesis,
    }
}

fn arrear(year: &str, item: &str, fen: i64) -> Arrear {
    Arrear {
        student_number: "2020100002".to_owned(),
        academic_year: year.to_owned(),
        item: item.to_owned(),
        amount: Decimal::new(fen, 2),
    }
}

#[test]
fn the_library_passes_only_when_everything_is_clear() {
    use LibraryThesisStatus::*;
    let cases = [
        (library(0, 0, 0, true, Approved), true),
        (library(1, 0, 0, true, Approved), false),
        (library(0, 1, 0, true, Approved), false),
        (library(0, 0, 1, true, Approved), false),
        (library(0, 0, 0, false, Approved), false),
        // Figure 6 shows 已提交 beside 通过; the text rules: only 审核通过 passes.
        (library(0, 0, 0, true, Submitted), false),
        (library(0, 0, 0, true, NotSubmitted), false),
        (library(0, 0, 0, true, Rejected), false),
    ];
    for (facts, passes) in cases {
        assert_eq!(rules::library(Some(&facts)).passed(), passes, "{facts:?}");
    }
    assert!(!rules::library(None).passed(), "no record is not a pass");
}

#[test]
fn a_failing_library_says_every_thing_to_do() {
    let verdict = rules::library(Some(&library(
        2,
        350,
        1,
        false,
        LibraryThesisStatus::Submitted,
    )));
    assert_eq!(verdict.todo.len(), 5, "{:?}", verdict.todo);
    assert!(verdict.todo[0].contains("2 册"));
    assert!(verdict.todo[1].contains("3.50 元"));
}

#[test]
fn the_archives_pass_only_when_reviewed() {
    assert!(rules::archives(Some(ArchivesThesisStatus::Reviewed)).passed());
    assert!(!rules::archives(Some(ArchivesThesisStatus::Submitted)).passed());
    let empty = rules::archives(None);
    assert!(!empty.passed());
    assert_eq!(empty.todo, vec!["请线下去档案馆提交论文。".to_owned()]);
}

#[test]
fn housing_passes_after_checkout_or_without_a_room() {
    let room = |on: Option<&str>, by: Option<&str>| HousingRecord {
        campus: "南湖校区".to_owned(),
        building: "梅苑1号楼".to_owned(),
        room: "A3071".to_owned(),
        checked_out_on: on.map(str::to_owned),
        checked_out_by: by.map(str::to_owned),
    };
    assert!(rules::housing(None).passed(), "never lived on campus");
    assert!(rules::housing(Some(&room(Some("2020-06-05"), Some("丁二君")))).passed());
    let open = rules::housing(Some(&room(None, None)));
    assert!(!open.passed());
    assert_eq!(
        open.todo,
        vec!["请在各宿舍公寓管理员处办理退宿。".to_owned()]
    );
    assert!(!rules::housing(Some(&room(Some("2020-06-05"), None))).passed());
}

#[test]
fn finance_passes_without_arrears_and_totals_exactly() {
    assert!(rules::finance(&[]).passed());
    let arrears = [
        arrear("2018", "代收取暖费", 6000),
        arrear("2019", "学分学费", 55000),
        arrear("2019", "代收取暖费", 7240),
    ];
    assert_eq!(total_arrears(&arrears), Decimal::new(68240, 2));
    assert_eq!(yuan(total_arrears(&arrears)), "682.40");
    let verdict = rules::finance(&arrears);
    assert!(!verdict.passed());
    assert!(verdict.todo[0].contains("682.40"));
}

#[test]
fn money_never_drifts_like_floating_point() {
    // 0.1 + 0.2 in f64 is 0.30000000000000004; in fen it is exactly 0.30.
    let arrears = [arrear("2019", "a", 10), arrear("2019", "b", 20)];
    assert_eq!(yuan(total_arrears(&arrears)), "0.30");
    let many: Vec<Arrear> = (0..1000).map(|_| arrear("2019", "x", 1)).collect();
    assert_eq!(yuan(total_arrears(&many)), "10.00");
    assert_eq!(yuan(Decimal::new(6000, 2)), "60.00");
    assert_eq!(yuan(Decimal::ZERO), "0.00");
}

#[test]
fn the_gate_opens_only_when_all_four_pass_in_every_combination() {
    for mask in 0u8..16 {
        let passes = [mask & 1 != 0, mask & 2 != 0, mask & 4 != 0, mask & 8 != 0];
        let verdicts: Vec<rules::Verdict> = Office::ALL
            .iter()
            .zip(passes)
            .map(|(&office, pass)| rules::Verdict {
                office,
                todo: if pass { vec![] } else { vec!["x".to_owned()] },
            })
            .collect();
        let expected_failing: Vec<Office> = Office::ALL
            .iter()
            .zip(passes)
            .filter(|(_, pass)| !pass)
            .map(|(&office, _)| office)
            .collect();
        match rules::gate(&verdicts) {
            Ok(()) => assert!(expected_failing.is_empty(), "mask {mask:04b}"),
            Err(failing) => assert_eq!(failing, expected_failing, "mask {mask:04b}"),
        }
    }
}

#[test]
fn the_gate_refusal_names_the_failing_offices() {
    let message = rules::gate_refusal_message(&[Office::Housing, Office::Finance]);
    assert!(
        message.contains("总务部公寓与物业中心、财务资产部收费管理办公室"),
        "{message}"
    );
}

#[test]
fn the_card_can_be_cancelled_only_with_nothing_outstanding() {
    use LibraryThesisStatus::*;
    assert_eq!(
        rules::card_cancellation(&library(0, 0, 0, false, NotSubmitted)),
        Ok(())
    );
    assert_eq!(
        rules::card_cancellation(&library(0, 0, 0, true, Approved)),
        Err(CardRefusal::AlreadyCancelled)
    );
    for facts in [
        library(1, 0, 0, false, Approved),
        library(0, 5, 0, false, Approved),
        library(0, 0, 2, false, Approved),
    ] {
        let refusal = rules::card_cancellation(&facts).expect_err("refused");
        let message = refusal.message();
        assert!(
            message.contains("0516-83592058"),
            "names the library's phone: {message}"
        );
    }
    let message = rules::card_cancellation(&library(2, 350, 1, false, Submitted))
        .expect_err("refused")
        .message();
    assert!(
        message.contains("2 册图书未还")
            && message.contains("3.50 元")
            && message.contains("1 条违章"),
        "{message}"
    );
}

#[test]
fn offices_carry_the_source_guide_names_and_phones() {
    let table: Vec<(&str, &str)> = Office::ALL
        .iter()
        .map(|office| (office.name(), office.phone()))
        .collect();
    assert_eq!(
        table,
        vec![
            ("图书馆", "0516-83592058"),
            ("档案馆", "0516-83592101"),
            ("总务部公寓与物业中心", "0516-83590327"),
            ("财务资产部收费管理办公室", "0516-83590233"),
        ]
    );
}

#[test]
fn status_labels_round_trip() {
    for status in LibraryThesisStatus::ALL {
        assert_eq!(
            LibraryThesisStatus::from_label(status.label()),
            Some(status)
        );
    }
    assert_eq!(
        ArchivesThesisStatus::from_label("已审核"),
        Some(ArchivesThesisStatus::Reviewed)
    );
    assert_eq!(ArchivesThesisStatus::from_label(""), None);
}

/// The database holds codes, never labels: each code names one status, and a label is
/// not mistaken for a code.
#[test]
fn stored_codes_round_trip_and_are_not_labels() {
    for status in LibraryThesisStatus::ALL {
        assert_eq!(LibraryThesisStatus::from_code(status.code()), Some(status));
        assert_eq!(LibraryThesisStatus::from_code(status.label()), None);
    }
    for status in [
        ArchivesThesisStatus::Submitted,
        ArchivesThesisStatus::Reviewed,
    ] {
        assert_eq!(ArchivesThesisStatus::from_code(status.code()), Some(status));
        assert_eq!(ArchivesThesisStatus::from_code(status.label()), None);
    }
    for gender in [Gender::Male, Gender::Female] {
        assert_eq!(Gender::from_code(gender.code()), Some(gender));
        assert_eq!(Gender::from_label(gender.label()), Some(gender));
        assert_eq!(Gender::from_code(gender.label()), None);
    }
}
