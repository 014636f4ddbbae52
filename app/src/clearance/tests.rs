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
        charge_id: None,
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
fn housing_passes_after_checkout_and_a_missing_room_is_pending() {
    let room = |on: Option<&str>, by: Option<&str>| HousingRecord {
        campus: "南湖校区".to_owned(),
        building: "梅苑1号楼".to_owned(),
        room: "A3071".to_owned(),
        checked_out_on: on.map(str::to_owned),
        checked_out_by: by.map(str::to_owned),
    };
    let missing = rules::housing(None);
    assert!(
        !missing.passed() && missing.pending(),
        "a missing room is no longer read as 'never lived on campus'"
    );
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
            .map(|(&office, pass)| {
                if pass {
                    rules::verdict(office, &clear_student())
                } else {
                    rules::Verdict::awaiting(office)
                }
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
    let mut facts = clear_student();
    facts.housing.as_mut().expect("a room").checked_out_on = None;
    facts.arrears.push(arrear("2019", "学分学费", 55000));
    let message = rules::gate_refusal_message(&rules::verdicts(&facts));
    assert!(
        message.contains(
            "以下事项未通过，暂不能提交离校流程：总务部公寓与物业中心、财务资产部收费管理办公室。"
        ),
        "{message}"
    );
    assert!(!message.contains("待核验"), "{message}");

    facts.states.library = OfficeState::pending();
    let message = rules::gate_refusal_message(&rules::verdicts(&facts));
    assert!(
        message.contains("以下部门尚未报送您的数据（待核验），暂不能提交离校流程：图书馆。"),
        "{message}"
    );
    assert!(
        !message.contains("未通过，暂不能提交离校流程：图书馆"),
        "a pending office is not named as failing: {message}"
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

/// A student every office reported on, with everything clear.
fn clear_student() -> ClearanceFacts {
    ClearanceFacts {
        basic: BasicInfo {
            name: "王小明".to_owned(),
            student_number: "2020100001".to_owned(),
            gender: Gender::Male,
            grade: "2017级".to_owned(),
            college: "计算机科学与技术学院".to_owned(),
            major: "软件工程".to_owned(),
            enrolled_on: "2017-09-01".to_owned(),
            departure_category: "毕业离校".to_owned(),
            applied_on: "2020-06-08".to_owned(),
        },
        library: Some(library(0, 0, 0, true, LibraryThesisStatus::Approved)),
        archives: Some(ArchivesThesisStatus::Reviewed),
        housing: Some(HousingRecord {
            campus: "南湖校区".to_owned(),
            building: "梅苑1号楼".to_owned(),
            room: "A3061".to_owned(),
            checked_out_on: Some("2020-06-05".to_owned()),
            checked_out_by: Some("丁二君".to_owned()),
        }),
        arrears: vec![],
        states: OfficeStates::all_reported(),
    }
}

#[test]
fn a_pending_office_neither_passes_nor_fails_and_keeps_the_gate_closed() {
    for office in Office::ALL {
        let mut facts = clear_student();
        *facts.states.get_mut(office) = OfficeState::pending();
        let verdicts = rules::verdicts(&facts);
        let verdict = &verdicts[Office::ALL
            .iter()
            .position(|o| *o == office)
            .expect("an office")];
        assert!(!verdict.passed(), "{office:?}: pending is never a pass");
        assert!(verdict.pending(), "{office:?}: shown as 待核验, not 未通过");
        assert_eq!(
            verdict.todo,
            vec![format!(
                "{}尚未报送您的数据，请耐心等待；如有疑问请致电 {}。",
                office.name(),
                office.phone()
            )]
        );
        assert_eq!(rules::gate(&verdicts), Err(vec![office]));
    }
    // Reported facts that are missing (no library or housing record) are pending too.
    let mut facts = clear_student();
    facts.library = None;
    facts.housing = None;
    let verdicts = rules::verdicts(&facts);
    assert!(verdicts[0].pending() && verdicts[2].pending());
    // Finance reported with no rows is "no arrears": a pass.
    assert!(verdicts[3].passed());
}

#[test]
fn not_applicable_is_an_explicit_pass() {
    let mut facts = clear_student();
    facts.housing = None;
    facts.states.housing.standing = Standing::NotApplicable;
    let verdict = rules::verdict(Office::Housing, &facts);
    assert!(verdict.passed());
    assert_eq!(verdict.basis, rules::Basis::NotApplicable);
    // Even a room record left behind does not count once housing says 不涉及.
    let mut facts = clear_student();
    facts.housing.as_mut().expect("a room").checked_out_on = None;
    assert!(!rules::verdict(Office::Housing, &facts).passed());
    facts.states.housing.standing = Standing::NotApplicable;
    assert!(rules::verdict(Office::Housing, &facts).passed());
}

#[test]
fn an_override_decides_over_the_facts_and_shows_its_reason() {
    let decided = |pass: bool| Override {
        pass,
        reason: "处长批准减免".to_owned(),
        decided_at: "2020-06-08 09:00:00".to_owned(),
        ends_with_new_facts: false,
    };
    let mut facts = clear_student();
    facts.arrears.push(arrear("2019", "学分学费", 55000));
    assert!(!rules::verdict(Office::Finance, &facts).passed());
    facts.states.finance.overridden = Some(decided(true));
    let verdict = rules::verdict(Office::Finance, &facts);
    assert!(verdict.passed());
    assert_eq!(verdict.basis, rules::Basis::Overridden);
    assert!(
        verdict
            .note
            .as_deref()
            .expect("a note")
            .contains("处长批准减免")
    );

    let mut facts = clear_student();
    facts.states.library.overridden = Some(decided(false));
    let verdict = rules::verdict(Office::Library, &facts);
    assert!(!verdict.passed() && !verdict.pending());
    assert!(!verdict.todo.is_empty(), "a fail override closes the gate");
    assert!(
        verdict
            .note
            .as_deref()
            .expect("a note")
            .contains("图书馆核定未通过：处长批准减免"),
        "{verdict:?}"
    );

    // An override also decides for an office that has not reported.
    let mut facts = clear_student();
    facts.states.archives = OfficeState::pending();
    facts.states.archives.overridden = Some(decided(true));
    assert!(rules::verdict(Office::Archives, &facts).passed());
}

#[test]
fn verdicts_frozen_before_standings_read_as_computed_from_facts() {
    let old = r#"{"office":"Library","todo":[]}"#;
    let verdict: rules::Verdict = serde_json::from_str(old).expect("reads");
    assert_eq!(verdict.basis, rules::Basis::Facts);
    assert!(verdict.passed());
}
