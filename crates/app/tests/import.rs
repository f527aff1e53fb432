//! Import, export and demo seeding, on SQLite and PostgreSQL alike.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use tidings_app::import::{ImportOptions, ImportReport, import_members, import_partners};
use tidings_app::{App, AppError, Caller, auth, demo, export};
use tidings_core::StaffRole;
use tidings_store::members::MemberFilter;
use tidings_store::{members, partners};

both_engines!(
    empty:
    members_import_with_bom_crlf_and_any_header_case_then_change_nothing_on_rerun,
    bad_rows_are_reported_by_line_and_column_and_good_rows_land,
    strict_mode_writes_nothing_when_a_row_is_bad,
    a_key_repeated_in_the_file_is_reported,
    members_are_updated_by_email_when_they_have_no_external_id,
    a_file_without_the_key_column_is_refused,
    a_header_with_too_many_columns_is_refused_at_once,
    partners_import_with_groups_and_attributes,
    an_export_imports_back_unchanged,
    exports_cannot_run_formulas_in_a_spreadsheet_and_import_back_as_they_were,
    the_demo_seeds_once,
    tokens_authenticate_until_rotated_and_roles_limit_writes,
    a_large_import_spans_many_batches,
);

const PARTNERS_CSV: &str = "external_id,name,partner_type,tier,region,country\n\
    P-1,Acme Distribution,distributor,strategic,emea,DE\n\
    P-2,Bolt Resale,reseller,growth,amer,US\n";

async fn partners_from(app: &App, csv: &str) -> ImportReport {
    import_partners(app, &Caller::operator(), Box::new(std::io::Cursor::new(csv.to_owned())), ImportOptions::default())
        .await
        .unwrap()
}

async fn members_from(app: &App, csv: &str, options: ImportOptions) -> Result<ImportReport, AppError> {
    import_members(app, &Caller::operator(), Box::new(std::io::Cursor::new(csv.to_owned())), options).await
}

fn counts(r: &ImportReport) -> (u64, u64, u64, u64) {
    (r.created, r.updated, r.unchanged, r.failed)
}

async fn members_import_with_bom_crlf_and_any_header_case_then_change_nothing_on_rerun(app: App) {
    partners_from(&app, PARTNERS_CSV).await;
    let csv = "\u{feff}EMAIL,Partner_External_ID,Name,Roles,Locale,Time Zone,Trained,Sales Region\r\n\
        ana@acme.example,P-1,Ana Silva,sales;support,de-DE,Europe/Berlin,yes,North\r\n\
        ben@bolt.example,P-2,Ben Smith,technical,en-US,America/Chicago,no,\r\n";
    let first = members_from(&app, csv, ImportOptions::default()).await.unwrap();
    assert_eq!(counts(&first), (2, 0, 0, 0), "{:?}", first.errors);
    let again = members_from(&app, csv, ImportOptions::default()).await.unwrap();
    assert_eq!(counts(&again), (0, 0, 2, 0));

    let mut tx = app.db.read().await.unwrap();
    let filter = MemberFilter { q: Some("ana@".into()), ..Default::default() };
    let ana = members::list(&mut tx, &filter, None, None).await.unwrap().items.remove(0);
    assert_eq!(ana.profile.name, "Ana Silva");
    assert_eq!(ana.profile.roles.to_string(), "sales;support");
    assert_eq!(ana.profile.attributes.get("trained").map(ToString::to_string).as_deref(), Some("yes"));
    assert_eq!(ana.profile.attributes.get("sales_region").map(ToString::to_string).as_deref(), Some("North"));
}

async fn bad_rows_are_reported_by_line_and_column_and_good_rows_land(app: App) {
    partners_from(&app, PARTNERS_CSV).await;
    let csv = "email,partner,locale,phone\n\
        good@acme.example,P-1,fr,\n\
        not-an-email,P-1,en,\n\
        who@acme.example,P-404,en,\n\
        two@acme.example,P-1,xx-123456789,12345\n\
        short@acme.example,P-1\n\
        fine@bolt.example,P-2,es,+34 600 123 456\n";
    let report = members_from(&app, csv, ImportOptions::default()).await.unwrap();
    assert_eq!(counts(&report), (2, 0, 0, 4));
    let errors: Vec<(u64, Option<&str>)> = report.errors.iter().map(|e| (e.line, e.column.as_deref())).collect();
    assert_eq!(
        errors,
        [(3, Some("email")), (4, Some("partner")), (5, Some("phone")), (5, Some("locale")), (6, None)],
        "{:#?}",
        report.errors
    );
    assert!(report.errors[1].message.contains("P-404"));
    assert!(report.errors[4].message.contains("2 fields"));
    let mut tx = app.db.read().await.unwrap();
    assert_eq!(members::count(&mut tx).await.unwrap(), 2);
}

async fn strict_mode_writes_nothing_when_a_row_is_bad(app: App) {
    partners_from(&app, PARTNERS_CSV).await;
    let csv = "email,partner\nok@acme.example,P-1\nbad,P-1\n";
    let report = members_from(&app, csv, ImportOptions { strict: true, dry_run: false }).await.unwrap();
    assert!(report.rolled_back);
    assert_eq!(counts(&report), (0, 0, 0, 1));
    let mut tx = app.db.read().await.unwrap();
    assert_eq!(members::count(&mut tx).await.unwrap(), 0);
    drop(tx);
    let report =
        members_from(&app, "email,partner\nok@acme.example,P-1\n", ImportOptions { strict: true, dry_run: false })
            .await
            .unwrap();
    assert_eq!(counts(&report), (1, 0, 0, 0));
    assert!(!report.rolled_back);
}

async fn a_key_repeated_in_the_file_is_reported(app: App) {
    partners_from(&app, PARTNERS_CSV).await;
    let csv = "external_id,email,partner\nU-1,a@acme.example,P-1\nU-2,A@ACME.example,P-1\nU-1,c@acme.example,P-1\n";
    let report = members_from(&app, csv, ImportOptions::default()).await.unwrap();
    assert_eq!(counts(&report), (1, 0, 0, 2));
    assert_eq!(report.errors[0].message, "the same email is on line 2");
    assert_eq!(report.errors[1].message, "the same external id is on line 2");
}

async fn members_are_updated_by_email_when_they_have_no_external_id(app: App) {
    partners_from(&app, PARTNERS_CSV).await;
    members_from(&app, "email,partner,name\nana@acme.example,P-1,Ana\n", ImportOptions::default()).await.unwrap();
    let report = members_from(&app, "email,name,status\nANA@acme.example,Ana Silva,test\n", ImportOptions::default())
        .await
        .unwrap();
    assert_eq!(counts(&report), (0, 1, 0, 0));
    let report = members_from(&app, "email,partner\nnew@acme.example,\n", ImportOptions::default()).await.unwrap();
    assert_eq!(counts(&report), (0, 0, 0, 1));
    assert_eq!(report.errors[0].column.as_deref(), Some("partner"));
}

async fn a_file_without_the_key_column_is_refused(app: App) {
    let err = members_from(&app, "name,partner\nAna,P-1\n", ImportOptions::default()).await.unwrap_err();
    assert!(matches!(&err, AppError::Invalid(e) if e.to_string().contains("'email' column")), "{err}");
    let err = members_from(&app, "email,Email\nx@y.example,x@y.example\n", ImportOptions::default()).await.unwrap_err();
    assert!(err.to_string().contains("same field"), "{err}");
    let err = members_from(&app, "", ImportOptions::default()).await.unwrap_err();
    assert!(matches!(err, AppError::Invalid(_)));
}

async fn partners_import_with_groups_and_attributes(app: App) {
    let csv = "external_id,name,type,tier,groups,partner_manager,Certified,Working Hours\n\
        P-1,Acme,distributor,strategic,,,yes,mon-fri 08:00-16:00\n\
        P-2,Bolt,reseller,platinum,,,no,\n\
        P-3,Cobalt,dealer,growth,no-such-group,,no,\n\
        P-4,Delta,dealer,growth,,nobody@vendor.example,no,\n\
        P-5,Echo,dealer,growth,,,no,weekdays\n";
    let report = partners_from(&app, csv).await;
    assert_eq!(counts(&report), (1, 0, 0, 4), "{:#?}", report.errors);
    assert_eq!(report.errors[0].column.as_deref(), Some("tier"));
    assert!(report.errors[0].message.contains("known: strategic"));
    assert_eq!(report.errors[1].column.as_deref(), Some("groups"));
    assert_eq!(report.errors[2].column.as_deref(), Some("partner_manager"));
    assert_eq!(report.errors[3].column.as_deref(), Some("Working Hours"), "named as the file names it");
    assert!(report.errors[3].message.contains("mon-fri 09:00-17:00"), "{}", report.errors[3].message);
    let page = tidings_app::partners::list(&app, &Caller::operator(), &Default::default(), None, None).await.unwrap();
    let hours = page.items[0].profile.working_hours.map(|w| w.to_string());
    assert_eq!(hours.as_deref(), Some("mon-fri 08:00-16:00"));
    let again = partners_from(&app, "external_id,tier\nP-1,growth\n").await;
    assert_eq!(counts(&again), (0, 1, 0, 0));
}

async fn an_export_imports_back_unchanged(app: App) {
    demo::seed(&app).await.unwrap();
    let mut partners_csv = Vec::new();
    let mut members_csv = Vec::new();
    let caller = Caller::operator();
    assert_eq!(export::export_partners(&app, &caller, &mut partners_csv).await.unwrap(), 40);
    assert_eq!(export::export_members(&app, &caller, &mut members_csv).await.unwrap(), 400);
    let text = String::from_utf8(members_csv).unwrap();
    assert!(text.starts_with(
        "external_id,partner_external_id,email,phone,name,roles,locale,time_zone,status,last_seen_at,working_hours,\
         trained:bool\n"
    ));
    // Typed attributes (true, 250000) keep their types through the file: the very first
    // re-import changes nothing, and a rule on a boolean matches the same members after.
    let trained = "member.attr.trained = true";
    let before = tidings_app::audiences::count(&app, &caller, &rule(trained)).await.unwrap();
    assert!(before > 0);
    let report = partners_from(&app, &String::from_utf8(partners_csv).unwrap()).await;
    assert_eq!(counts(&report), (0, 0, 40, 0), "{:#?}", report.errors);
    let report = members_from(&app, &text, ImportOptions::default()).await.unwrap();
    assert_eq!(counts(&report), (0, 0, 400, 0), "{:#?}", report.errors);
    assert_eq!(tidings_app::audiences::count(&app, &caller, &rule(trained)).await.unwrap(), before);
    // A cell that is not of its column's declared type is a row error, not text.
    let email = text.lines().nth(1).unwrap().split(',').nth(2).unwrap();
    let bad = format!("email,trained:bool\n{email},maybe\n");
    let report = members_from(&app, &bad, ImportOptions::default()).await.unwrap();
    assert_eq!(report.failed, 1, "{:#?}", report.errors);
    assert_eq!(report.errors[0].column.as_deref(), Some("trained:bool"), "{:#?}", report.errors);
}

fn rule(text: &str) -> tidings_core::audiences::AudienceDraft {
    tidings_core::audiences::AudienceDraft { rule: Some(text.to_owned()), ..Default::default() }
}

async fn the_demo_seeds_once(app: App) {
    let seeded = demo::seed(&app).await.unwrap();
    assert_eq!(seeded, Some(demo::Seeded { partners: 40, members: 400 }));
    assert_eq!(demo::seed(&app).await.unwrap(), None);
    let mut tx = app.db.read().await.unwrap();
    assert_eq!(partners::count(&mut tx).await.unwrap(), 40);
    let page = partners::list(&mut tx, &Default::default(), None, Some(500)).await.unwrap();
    let types: std::collections::BTreeSet<_> = page.items.iter().map(|p| p.profile.partner_type.to_string()).collect();
    let regions: std::collections::BTreeSet<_> =
        page.items.iter().filter_map(|p| p.profile.region.as_ref().map(ToString::to_string)).collect();
    assert!(types.len() >= 4 && regions.len() == 4, "{types:?} {regions:?}");
}

async fn tokens_authenticate_until_rotated_and_roles_limit_writes(app: App) {
    let (_, secret) = auth::create_token(&app, &Caller::operator(), "ci", StaffRole::Analyst, None).await.unwrap();
    let caller = auth::authenticate(&app, &secret).await.unwrap();
    assert_eq!(caller.role, StaffRole::Analyst);
    assert!(matches!(auth::authenticate(&app, "tid_nope").await, Err(AppError::Unauthorized)));
    assert!(matches!(auth::authenticate(&app, "Bearer x").await, Err(AppError::Unauthorized)));
    let denied = tidings_app::topics::create(&app, &caller, &Default::default()).await;
    assert!(matches!(denied, Err(AppError::Forbidden(_))));
    let denied = auth::create_token(&app, &caller, "sneaky", StaffRole::Admin, None).await;
    assert!(matches!(denied, Err(AppError::Forbidden(_))));
    let fresh = auth::rotate_token(&app, "ci", StaffRole::Admin).await.unwrap();
    assert!(matches!(auth::authenticate(&app, &secret).await, Err(AppError::Unauthorized)));
    assert_eq!(auth::authenticate(&app, &fresh).await.unwrap().role, StaffRole::Admin);
}

async fn a_large_import_spans_many_batches(app: App) {
    partners_from(&app, PARTNERS_CSV).await;
    let mut csv = String::from("external_id,email,partner,roles\n");
    for i in 0..1_600 {
        csv.push_str(&format!("U-{i},m{i}@acme.example,P-{},support\n", 1 + i % 2));
    }
    let report = members_from(&app, &csv, ImportOptions::default()).await.unwrap();
    assert_eq!(counts(&report), (1_600, 0, 0, 0));
    let report = members_from(&app, &csv, ImportOptions::default()).await.unwrap();
    assert_eq!(counts(&report), (0, 0, 1_600, 0));
}

/// A name, phone or attribute a spreadsheet would run as a formula is written as text
/// (a leading apostrophe), and the export imports back to the same values.
async fn exports_cannot_run_formulas_in_a_spreadsheet_and_import_back_as_they_were(app: App) {
    partners_from(
        &app,
        "external_id,name,partner_type,tier,region,country,nickname\n\
        P-1,=HYPERLINK(\"http://evil.example\"),distributor,strategic,emea,DE,@SUM(A1)\n",
    )
    .await;
    let members = "email,partner_external_id,name,phone,roles,score\n\
        ana@acme.example,P-1,-2+3 Ana,+4930123456,sales,-5\n";
    let first = members_from(&app, members, ImportOptions::default()).await.unwrap();
    assert_eq!(counts(&first), (1, 0, 0, 0), "{:?}", first.errors);

    let caller = Caller::operator();
    let (mut partners_csv, mut members_csv) = (Vec::new(), Vec::new());
    export::export_partners(&app, &caller, &mut partners_csv).await.unwrap();
    export::export_members(&app, &caller, &mut members_csv).await.unwrap();
    let (partners_text, members_text) =
        (String::from_utf8(partners_csv.clone()).unwrap(), String::from_utf8(members_csv.clone()).unwrap());
    assert!(partners_text.contains("\"'=HYPERLINK(\"\"http://evil.example\"\")\""), "{partners_text}");
    assert!(partners_text.contains(",'@SUM(A1)"), "{partners_text}");
    assert!(members_text.contains(",'+4930123456,'-2+3 Ana,") && members_text.contains(",'-5"), "{members_text}");
    for line in partners_text.lines().chain(members_text.lines()) {
        for cell in line.split(',') {
            assert!(!cell.trim_start_matches('"').starts_with(['=', '+', '-', '@']), "{cell} in {line}");
        }
    }

    let partners =
        import_partners(&app, &caller, Box::new(std::io::Cursor::new(partners_csv)), ImportOptions::default())
            .await
            .unwrap();
    assert_eq!(counts(&partners), (0, 0, 1, 0), "{:?}", partners.errors);
    let members = members_from(&app, &members_text, ImportOptions::default()).await.unwrap();
    assert_eq!(counts(&members), (0, 0, 1, 0), "the export imports back unchanged: {:?}", members.errors);
}

async fn a_header_with_too_many_columns_is_refused_at_once(app: App) {
    let header: Vec<String> =
        std::iter::once("email".to_owned()).chain((0..100_000).map(|i| format!("c{i}"))).collect();
    let csv = format!("{}\nana@acme.example\n", header.join(","));
    let started = std::time::Instant::now();
    let refused = members_from(&app, &csv, ImportOptions::default()).await;
    assert!(matches!(&refused, Err(AppError::Invalid(e)) if e.to_string().contains("at most 500")), "{refused:?}");
    assert!(started.elapsed() < std::time::Duration::from_secs(2), "{:?}", started.elapsed());
}
