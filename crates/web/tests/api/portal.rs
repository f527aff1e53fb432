//! The partner portal over HTTP as a browser uses it (cookies kept by hand, forms posted
//! with their CSRF token): sign-in by a link taken from the real SMTP server, the must-know
//! pop-up, acknowledgment, search and filters, languages, isolation between partners and
//! inert hostile content. Real-browser runs come on top of these.

use std::time::Duration;

use reqwest::Method;
use reqwest::header::COOKIE;
use serde_json::{Value, json};

use crate::both_engines;
use crate::browse::{Browser, Page, fields};
use crate::helpers::TestApp;

both_engines!(
    a_member_signs_in_by_link_sees_the_popup_and_acknowledges,
    the_inbox_searches_and_filters,
    a_member_never_sees_another_partners_messages,
    hostile_text_renders_inert,
    forms_without_the_session_token_are_refused,
    signing_in_is_rate_limited_per_address,
    preferences_are_changed_and_consent_recorded,
    a_partner_lead_sees_and_reminds_only_their_own_colleagues,
    a_member_sets_a_password_and_signs_in_with_it,
    a_password_change_asks_for_the_current_one_and_ends_every_other_session,
);

impl Browser {
    /// Asks for a link on the sign-in page and takes it from the SMTP server.
    async fn request_link(&mut self, app: &TestApp, email: &str) -> String {
        let before = app.smtp.received().into_iter().filter(|m| m.to == vec![email.to_owned()]).count();
        let form = self.get("/portal/sign-in").await;
        assert_eq!(form.status, 200);
        let sent = self.post("/portal/sign-in", &[("csrf", &form.csrf()), ("email", email)]).await;
        assert_eq!(sent.status, 200, "{}", sent.body);
        for _ in 0..200 {
            let mails: Vec<_> = app.smtp.received().into_iter().filter(|m| m.to == vec![email.to_owned()]).collect();
            if mails.len() > before {
                let text = mails.last().unwrap().text();
                let at = text.find(&format!("{}/portal/sign-in/", self.base)).expect("a sign-in link");
                return text[at..].split_whitespace().next().unwrap().to_owned();
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        panic!("no sign-in email reached {email}");
    }

    pub(crate) async fn sign_in(app: &TestApp, email: &str) -> Self {
        let mut browser = Self::new(app);
        let link = browser.request_link(app, email).await;
        let landing = browser.get(&link).await;
        let signed = browser.post(&link, &[("csrf", &landing.csrf())]).await;
        assert_eq!((signed.status, signed.location.as_deref()), (303, Some("/portal")), "{}", signed.body);
        browser
    }
}

/// Two partners with two members each (the first of Acme reads German); one topic.
/// Returns the members' emails and ids, and the topic's id.
pub async fn directory(app: &TestApp) -> (Vec<String>, Vec<Value>, String) {
    let mut ids = Vec::new();
    let mut emails = Vec::new();
    for (partner, people) in [("Acme", ["ana", "ben"]), ("Globex", ["cleo", "dan"])] {
        let (_, p) =
            app.admin(Method::POST, "/api/v1/partners", Some(json!({"name": partner, "partner_type": "dealer"}))).await;
        for (i, who) in people.iter().enumerate() {
            let email = format!("{who}@{}.example", partner.to_lowercase());
            let locale = if partner == "Acme" && i == 0 { "de" } else { "en" };
            let body = json!({"partner_id": p["id"], "email": email, "name": who, "roles": ["support"], "locale": locale,
                              "time_zone": "Europe/Berlin"});
            let (status, created) = app.admin(Method::POST, "/api/v1/members", Some(body)).await;
            assert_eq!(status, 201, "{created}");
            emails.push(email);
            ids.push(created["id"].clone());
        }
    }
    let (status, topic) =
        app.admin(Method::POST, "/api/v1/topics", Some(json!({"key": "safety", "name": "Safety"}))).await;
    assert_eq!(status, 201, "{topic}");
    (emails, ids, topic["id"].as_str().unwrap().to_owned())
}

/// Releases a message to these members; returns its id.
pub async fn release(app: &TestApp, topic: &str, ids: &[&Value], importance: &str, title: &str, ack: bool) -> String {
    let mut body = json!({
        "topic_id": topic, "importance": importance,
        "content": {"variants": {"en": {
            "title": title, "summary": format!("Summary of {title}"),
            "what_changed": "Two **lots** are affected.", "why_it_matters": "Safety first.",
            "what_to_do": "Pull them from stock today.",
            "call_to_action": {"label": "Start the return", "url": "https://vendor.example/returns"}}}},
        "audience": {"members": ids},
    });
    if ack {
        body["acknowledgment"] = json!({"statement": "We have pulled the affected stock", "due_at": "2099-01-15"});
    }
    let (status, message) = app.admin(Method::POST, "/api/v1/messages", Some(body)).await;
    assert_eq!(status, 201, "{message}");
    let id = message["id"].as_str().unwrap().to_owned();
    let (status, released) = app.admin(Method::POST, &format!("/api/v1/messages/{id}/release"), None).await;
    assert_eq!(status, 200, "{released}");
    id
}

fn has_popup(page: &Page) -> bool {
    page.body.contains("<dialog open class=\"popup\"")
}

async fn a_member_signs_in_by_link_sees_the_popup_and_acknowledges(app: TestApp) -> TestApp {
    let (emails, ids, topic) = directory(&app).await;
    let ben = emails[1].as_str();
    let recall = release(&app, &topic, &[&ids[1]], "critical", "Recall of lots A1 and B2", true).await;

    let mut browser = Browser::new(&app);
    let first = browser.get("/portal").await;
    assert_eq!((first.status, first.location.as_deref()), (303, Some("/portal/sign-in")));
    let form = browser.get("/portal/sign-in").await;
    let cookie = form.set_cookie.clone().expect("a session cookie");
    for attribute in ["HttpOnly", "SameSite=Lax", "Path=/portal"] {
        assert!(cookie.contains(attribute), "{cookie} lacks {attribute}");
    }
    // The same answer for an address that is no member's.
    let stranger =
        browser.post("/portal/sign-in", &[("csrf", &form.csrf()), ("email", "nobody@nowhere.example")]).await;
    assert_eq!(stranger.status, 200);
    let bad = browser.post("/portal/sign-in", &[("csrf", &form.csrf()), ("email", "not an address")]).await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("aria-invalid=\"true\""));

    let link = browser.request_link(&app, ben).await;
    let before = browser.cookie.clone();
    // Opening the link (as a mail scanner would) does not use it up.
    assert_eq!(browser.get(&link).await.status, 200);
    let landing = browser.get(&link).await;
    assert!(landing.body.contains("<button type=\"submit\""), "{}", landing.body);
    let signed = browser.post(&link, &[("csrf", &landing.csrf())]).await;
    assert_eq!((signed.status, signed.location.as_deref()), (303, Some("/portal")), "{}", signed.body);
    assert_ne!(browser.cookie, before, "signing in gives a new session id");
    let reused = browser.post(&link, &[("csrf", &landing.csrf())]).await;
    assert_eq!(reused.status, 403, "the old page's token died with the old session");

    let inbox = browser.get("/portal").await;
    assert_eq!(inbox.status, 200);
    assert!(inbox.body.contains("Recall of lots A1 and B2"));
    assert!(inbox.body.contains("Must know"));
    assert!(has_popup(&inbox), "the must-know pop-up shows");
    assert!(inbox.body.contains("We have pulled the affected stock"));

    // Closed for now: gone on every page of this session, back in the next one.
    let closed = browser
        .post(&format!("/portal/messages/{recall}/dismiss"), &[("csrf", &inbox.csrf()), ("back", "/portal")])
        .await;
    assert_eq!((closed.status, closed.location.as_deref()), (303, Some("/portal")));
    let inbox = browser.get("/portal").await;
    assert!(!has_popup(&inbox));
    // A `back` that would split the Location header goes to the inbox, not a 500.
    let split = browser
        .post(
            &format!("/portal/messages/{recall}/dismiss"),
            &[("csrf", &inbox.csrf()), ("back", "/portal\r\nSet-Cookie: tidings_portal=stolen")],
        )
        .await;
    assert_eq!((split.status, split.location.as_deref()), (303, Some("/portal")));
    let out = browser.post("/portal/sign-out", &[("csrf", &inbox.csrf())]).await;
    assert_eq!((out.status, out.location.as_deref()), (303, Some("/portal/sign-in")));
    assert_eq!(browser.get("/portal").await.status, 303, "signed out");
    let mut browser = Browser::sign_in(&app, ben).await;
    let inbox = browser.get("/portal").await;
    assert!(has_popup(&inbox), "the pop-up returns on the next visit");

    let page = browser.get(&format!("/portal/messages/{recall}")).await;
    assert_eq!(page.status, 200);
    assert!(!has_popup(&page), "no pop-up over the message it is about");
    for section in ["What changed", "Why it matters", "What to do next", "Start the return", "<strong>lots</strong>"] {
        assert!(page.body.contains(section), "the message page lacks {section}");
    }
    let hash = page.field("content_hash");
    let wrong = browser
        .post(&format!("/portal/messages/{recall}/acknowledge"), &[("csrf", &page.csrf()), ("content_hash", "0")])
        .await;
    assert_eq!(wrong.status, 409, "only the version shown can be acknowledged");
    let done = browser
        .post(&format!("/portal/messages/{recall}/acknowledge"), &[("csrf", &page.csrf()), ("content_hash", &hash)])
        .await;
    assert_eq!(done.status, 303, "{}", done.body);
    let page = browser.get(&format!("/portal/messages/{recall}")).await;
    assert!(page.body.contains("your acknowledgment is recorded"), "a note after acknowledging");
    assert!(page.body.contains("You confirmed this on"));
    assert!(!has_popup(&browser.get("/portal").await));

    let (_, events) =
        app.admin(Method::GET, &format!("/api/v1/messages/{recall}/events?kind=acknowledged"), None).await;
    let events = events["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(events.len(), 1, "{events:?}");
    app
}

async fn the_inbox_searches_and_filters(app: TestApp) -> TestApp {
    let (emails, ids, topic) = directory(&app).await;
    let ana = emails[0].as_str();
    let recall = release(&app, &topic, &[&ids[0]], "critical", "Recall of lots A1 and B2", true).await;
    release(&app, &topic, &[&ids[0]], "info", "Autumn webinar programme", false).await;
    let mut browser = Browser::sign_in(&app, ana).await;
    let link_mail = app.smtp.received().into_iter().rfind(|m| m.to == vec![ana.to_owned()]).unwrap();
    assert_eq!(link_mail.subject(), "Ihr Anmeldelink", "the sign-in email is in Ana's language");

    let all = browser.get("/portal").await;
    assert!(all.body.contains("Recall of lots") && all.body.contains("Autumn webinar"));
    let again = browser.get("/portal").await;
    assert_eq!(again.status, 200);
    assert!(again.set_cookie.is_none(), "an unchanged session is not saved on every page");
    assert!(all.body.contains("<html lang=\"de\">") && all.body.contains("Posteingang"), "Ana reads German");
    let found = browser.get("/portal?q=webinar").await;
    assert!(found.list().contains("Autumn webinar") && !found.list().contains("Recall of lots"));
    let critical = browser.get("/portal?importance=critical").await;
    assert!(critical.list().contains("Recall of lots") && !critical.list().contains("Autumn webinar"));
    let waiting = browser.get("/portal?needs_ack=1").await;
    assert!(waiting.list().contains("Recall of lots") && !waiting.list().contains("Autumn webinar"));
    let by_topic = browser.get(&format!("/portal?topic={topic}")).await;
    assert!(by_topic.list().contains("Recall of lots") && by_topic.list().contains("Autumn webinar"));

    // Reading marks read; the unread filter then leaves the message out.
    let member = ids[0].as_str().unwrap();
    let (status, token) = app.admin(Method::POST, &format!("/api/v1/members/{member}/token"), Some(json!({}))).await;
    assert_eq!(status, 200, "{token}");
    let token = token["token"].as_str().unwrap();
    let read = app.call(Method::POST, &format!("/api/v1/inbox/{recall}/read"), Some(token), None).await;
    assert_eq!(read.status(), 200);
    let unread = browser.get("/portal?unread=1").await;
    assert!(!unread.list().contains("Recall of lots") && unread.list().contains("Autumn webinar"));
    assert_eq!(browser.get("/portal?importance=urgent").await.status, 400, "a clear error on a bad filter");
    app
}

async fn a_member_never_sees_another_partners_messages(app: TestApp) -> TestApp {
    let (emails, ids, topic) = directory(&app).await;
    let ana = emails[0].as_str();
    let theirs = release(&app, &topic, &[&ids[2]], "critical", "Globex only: price change", true).await;
    release(&app, &topic, &[&ids[0]], "info", "Acme only: welcome", false).await;
    let mut browser = Browser::sign_in(&app, ana).await;

    let inbox = browser.get("/portal").await;
    assert!(inbox.body.contains("Acme only") && !inbox.body.contains("Globex only"));
    assert!(!has_popup(&inbox), "another partner's must-know never pops up");
    for query in ["?q=Globex", "?importance=critical", "?needs_ack=1"] {
        assert!(!browser.get(&format!("/portal{query}")).await.body.contains("Globex only"), "{query}");
    }
    let page = browser.get(&format!("/portal/messages/{theirs}")).await;
    assert_eq!(page.status, 404);
    assert!(!page.body.contains("Globex only"));
    let inbox = browser.get("/portal").await;
    let ack = browser
        .post(&format!("/portal/messages/{theirs}/acknowledge"), &[("csrf", &inbox.csrf()), ("content_hash", "x")])
        .await;
    assert_eq!(ack.status, 404);
    // Closing another partner's pop-up changes nothing anywhere: the pop-up is per session.
    let dismissed = browser
        .post(&format!("/portal/messages/{theirs}/dismiss"), &[("csrf", &inbox.csrf()), ("back", "/portal")])
        .await;
    assert_eq!(dismissed.status, 303);
    assert_eq!(browser.get("/portal/team").await.status, 404, "not a lead: no colleagues");
    let (_, events) = app.admin(Method::GET, &format!("/api/v1/messages/{theirs}/events"), None).await;
    let kinds: Vec<Value> = events["items"].as_array().unwrap().iter().map(|e| e["kind"].clone()).collect();
    assert!(!kinds.contains(&json!("viewed")) && !kinds.contains(&json!("acknowledged")), "{kinds:?}");
    app
}

/// Payloads that have broken real sanitizers and templates: script and event handlers,
/// attribute break-outs, javascript: links, frames, styles, mutation XSS and template
/// injection.
const XSS: [&str; 10] = [
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(2)>",
    "\"><svg/onload=alert(3)>",
    "' onmouseover='alert(4)",
    "<a href=\"javascript:alert(5)\">five</a>",
    "[six](javascript:alert(6))",
    "<iframe src=\"https://evil.example\"></iframe>",
    "<style>body{display:none}</style>",
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(9)>",
    // A template probe ({{ 7*7 }} is refused at save: personalization does no arithmetic).
    "</textarea><script>alert(10)</script>{{ 7+7 }}",
];

/// The one script a portal page runs: ours, from a file (the preferences page's offer of
/// notifications in the browser), never inline.
const OWN_SCRIPT: &str = "script src=\"/portal/assets/push.js\" defer";

/// No executable markup in a page, whatever it shows as text: escaped text never holds
/// a raw `<`, so every `<` opens real markup, and each such tag is checked.
fn assert_inert(where_: &str, html: &str) {
    let html = html.replace(&format!("<{OWN_SCRIPT}></script>"), "");
    for tag in html.split('<').skip(1).map(|rest| rest.split('>').next().unwrap_or_default().to_lowercase()) {
        let name =
            tag.trim_start_matches('/').split(|c: char| c.is_whitespace() || c == '/').next().unwrap_or_default();
        assert!(!["script", "iframe", "svg", "style", "math", "object", "embed"].contains(&name), "{where_}: <{tag}>");
        let handler = tag.split_whitespace().any(|attr| {
            attr.starts_with("on")
                && attr.contains('=')
                && attr[2..].split('=').next().is_some_and(|n| n.chars().all(|c| c.is_ascii_alphabetic()))
        });
        assert!(!handler, "{where_}: an event handler in <{tag}>");
        assert!(!tag.contains("javascript:"), "{where_}: a javascript: link in <{tag}>");
    }
}

async fn hostile_text_renders_inert(app: TestApp) -> TestApp {
    for live in ["<img src=x onerror=alert(1)>", "<p><script>x</script>", "<a href=\"javascript:x\">", "<svg/onload=x>"]
    {
        assert!(std::panic::catch_unwind(|| assert_inert("self-check", live)).is_err(), "the check misses {live}");
    }
    assert_inert("self-check", "<p>&#60;script&#62; onerror=alert(1) javascript:x</p>");
    let corpus = XSS.join(" ");
    let partner =
        json!({"name": format!("Evil {}", XSS[1]), "partner_type": "dealer", "attributes": {"motto": corpus}});
    let (status, p) = app.admin(Method::POST, "/api/v1/partners", Some(partner)).await;
    assert_eq!(status, 201, "{p}");
    let body = json!({"partner_id": p["id"], "email": "eve@evil.example", "name": format!("Eve {}", XSS[2]),
                      "roles": ["support", "partner_lead"], "attributes": {"nickname": corpus}});
    let (status, eve) = app.admin(Method::POST, "/api/v1/members", Some(body)).await;
    assert_eq!(status, 201, "{eve}");
    let (_, topic) = app
        .admin(Method::POST, "/api/v1/topics", Some(json!({"key": "news", "name": format!("News {}", XSS[0])})))
        .await;
    let message = json!({
        "topic_id": topic["id"], "importance": "critical", "audience": {"members": [eve["id"]]},
        "content": {"variants": {"en": {
            "title": format!("{} for {{{{ member.name }}}}", XSS[0]),
            "summary": format!("{} {{{{ partner.name }}}}", XSS[3]),
            "what_changed": corpus,
            "why_it_matters": "{{ member.attr.nickname }}",
            "what_to_do": format!("{} {{{{ partner.attr.motto }}}}", XSS[5]),
            "call_to_action": {"label": XSS[2], "url": "https://vendor.example/x?a=\"><script>"}}}},
        "acknowledgment": {"statement": XSS[1]}});
    let (status, created) = app.admin(Method::POST, "/api/v1/messages", Some(message)).await;
    assert_eq!(status, 201, "{created}");
    let id = created["id"].as_str().unwrap();
    assert_eq!(app.admin(Method::POST, &format!("/api/v1/messages/{id}/release"), None).await.0, 200);

    let mut browser = Browser::sign_in(&app, "eve@evil.example").await;
    for path in
        ["/portal".to_owned(), format!("/portal/messages/{id}"), "/portal/preferences".into(), "/portal/team".into()]
    {
        let page = browser.get(&path).await;
        assert_eq!(page.status, 200, "{path}");
        assert_inert(&path, &page.body);
    }
    let page = browser.get(&format!("/portal/messages/{id}")).await;
    assert!(page.body.contains("&#60;script&#62;alert(1)"), "the title is shown as text");
    let main = &page.body[page.body.find("<main").unwrap()..];
    assert!(main.contains("alert(10)") && main.contains("for Eve "), "the personalized corpus is on the page: {main}");

    let secret = tidings_app::widget::secret(&app.app).await.unwrap();
    let exp = app.app.clock.now().as_millis() / 1000 + 600;
    let claims =
        tidings_app::widget::WidgetClaims { email: Some("eve@evil.example".into()), exp, ..Default::default() };
    let token = tidings_app::widget::sign(&secret, &claims);
    let (status, shown) =
        crate::helpers::read(app.call(Method::GET, &format!("/widget/v1/inbox/{id}"), Some(&token), None).await).await;
    assert_eq!(status, 200);
    for section in ["what_changed", "why_it_matters", "what_to_do"] {
        assert_inert(section, shown["rendered"][section].as_str().unwrap());
    }
    app
}

async fn forms_without_the_session_token_are_refused(app: TestApp) -> TestApp {
    let (emails, ids, topic) = directory(&app).await;
    let recall = release(&app, &topic, &[&ids[1]], "critical", "Recall", true).await;
    let mut browser = Browser::sign_in(&app, &emails[1]).await;
    let page = browser.get(&format!("/portal/messages/{recall}")).await;
    let hash = page.field("content_hash");
    let path = format!("/portal/messages/{recall}/acknowledge");
    for token in ["", "csrf_forged"] {
        let refused = browser.post(&path, &[("csrf", token), ("content_hash", &hash)]).await;
        assert_eq!(refused.status, 403, "token {token:?}");
    }
    let json = browser
        .client
        .post(format!("{}{path}", browser.base))
        .header(COOKIE, browser.cookie.clone().unwrap())
        .json(&json!({"csrf": page.csrf(), "content_hash": hash}))
        .send()
        .await
        .unwrap();
    assert_eq!(json.status(), 403, "only forms, with their token");
    let (_, events) =
        app.admin(Method::GET, &format!("/api/v1/messages/{recall}/events?kind=acknowledged"), None).await;
    assert_eq!(events["items"].as_array().map_or(0, Vec::len), 0);
    app
}

async fn signing_in_is_rate_limited_per_address(app: TestApp) -> TestApp {
    let mut browser = Browser::new(&app);
    let form = browser.get("/portal/sign-in").await;
    let mut statuses = Vec::new();
    for i in 0..11 {
        let email = format!("someone{i}@nowhere.example");
        statuses.push(browser.post("/portal/sign-in", &[("csrf", &form.csrf()), ("email", &email)]).await.status);
    }
    assert_eq!(statuses[..10], [200; 10]);
    assert_eq!(statuses[10], 429, "the eleventh attempt in a row is refused");
    let link = browser.post("/portal/sign-in/sl_guess", &[("csrf", &form.csrf())]).await;
    assert_eq!(link.status, 429, "guessing links counts against the same limit");
    assert!(link.body.contains("Too many attempts"));
    assert_eq!(browser.get("/portal/sign-in").await.status, 200, "reading pages is not limited");
    app
}

async fn preferences_are_changed_and_consent_recorded(app: TestApp) -> TestApp {
    let (emails, ids, _) = directory(&app).await;
    let optional = json!({"key": "webinars", "name": "Webinars", "policies": {"default": "optional_on"}});
    assert_eq!(app.admin(Method::POST, "/api/v1/topics", Some(optional)).await.0, 201);
    let required = json!({"key": "recalls", "name": "Recalls", "policies": {"default": "optional_on", "by_role": {"support": "required"}}});
    assert_eq!(app.admin(Method::POST, "/api/v1/topics", Some(required)).await.0, 201);
    let mut browser = Browser::sign_in(&app, &emails[1]).await;

    let page = browser.get("/portal/preferences").await;
    assert_eq!(page.status, 200);
    let recalls = page.body.split("name=\"topic:recalls\"").nth(1).and_then(|rest| rest.split('>').next());
    let recalls: Vec<&str> = recalls.unwrap_or_default().split_whitespace().collect();
    assert!(recalls.contains(&"checked") && recalls.contains(&"disabled"), "a required topic is locked on");
    assert!(page.body.contains("Required for your role"));
    assert!(!page.body.contains("id=\"email-opt-in\" name=\"email_opt_in\" value=\"on\" checked"), "email is opt-in");
    assert!(page.body.contains("We have no mobile number for you"), "no phone, no SMS consent to give");
    let member = ids[1].as_str().unwrap();
    let phone = json!({"phone": "+43 660 1234567"});
    assert_eq!(app.admin(Method::PATCH, &format!("/api/v1/members/{member}"), Some(phone)).await.0, 200);
    let page = browser.get("/portal/preferences").await;
    assert!(page.body.contains("text messages about our partnership at +436601234567."), "{}", page.body);
    assert!(!page.body.contains("name=\"sms_opt_in\" value=\"on\" checked"), "SMS is opt-in");
    // No SMS provider here: the grid offers email and browser notifications (set up).
    assert!(page.body.contains("name=\"grid\" value=\"email,web_push\""), "{}", page.body);
    assert!(
        page.body.contains("name=\"channel:webinars:web_push\" value=\"on\" aria-label=\"Webinars: Browser\" checked")
    );

    // Webinars off, email and SMS opted in, terms accepted, German, Vienna; safety stays on.
    // In the grid, webinars by neither email nor browser (its boxes unticked), recalls by both.
    let csrf = page.csrf();
    let form = [
        ("csrf", csrf.as_str()),
        ("grid", "email,web_push"),
        ("channel:recalls:email", "on"),
        ("channel:recalls:web_push", "on"),
        ("channel:safety:email", "on"),
        ("channel:safety:web_push", "on"),
        ("topic:safety", "on"),
        ("email_channel", "on"),
        ("email_opt_in", "on"),
        ("sms_opt_in", "on"),
        ("accept_terms", "on"),
        ("locale", "de"),
        ("time_zone", "Europe/Vienna"),
    ];
    let saved = browser.post("/portal/preferences", &form).await;
    assert_eq!((saved.status, saved.location.as_deref()), (303, Some("/portal/preferences")), "{}", saved.body);
    let page = browser.get("/portal/preferences").await;
    assert!(page.body.contains("Ihre Einstellungen sind gespeichert"), "saved, and now in German");
    assert!(page.body.contains("<option selected>Europe/Vienna</option>"));

    let (_, prefs) = app.admin(Method::GET, &format!("/api/v1/members/{member}/preferences"), None).await;
    let topic = |key: &str| prefs["topics"].as_array().unwrap().iter().find(|t| t["key"] == key).unwrap()["on"].clone();
    assert_eq!((topic("webinars"), topic("recalls"), topic("safety")), (json!(false), json!(true), json!(true)));
    assert_eq!(prefs["preferences"]["email_opted_in"], true);
    assert_eq!(prefs["preferences"]["topic_channels"]["webinars"], json!({"email": false, "web_push": false}));
    assert!(prefs["preferences"]["topic_channels"].get("recalls").is_none(), "a ticked box is the default");
    let recalls = prefs["topics"].as_array().unwrap().iter().find(|t| t["key"] == "recalls").unwrap();
    let email = recalls["channels"].as_array().unwrap().iter().find(|c| c["channel"] == "email").unwrap();
    assert_eq!((email["chosen"].as_bool(), email["reaches"].as_bool()), (Some(true), Some(true)), "{email}");
    let (_, history) = app.admin(Method::GET, &format!("/api/v1/members/{member}/consent"), None).await;
    let records = history.as_array().unwrap();
    let email = records.iter().find(|r| r["purpose"] == "email").expect("an email consent record");
    assert_eq!((email["source"].as_str(), email["text_version"].as_str()), (Some("portal"), Some("portal-email-1/en")));
    let sms = records.iter().find(|r| r["purpose"] == "sms").expect("an SMS consent record");
    assert_eq!((sms["granted"].as_bool(), sms["text_version"].as_str()), (Some(true), Some("portal-sms-1/en")));
    assert_eq!(prefs["preferences"]["sms_opted_in"], true);
    let terms = records.iter().find(|r| r["purpose"] == "terms").expect("a terms record");
    assert_eq!((terms["granted"].as_bool(), terms["text_version"].as_str()), (Some(true), Some("terms-1")));

    // Saving again changes nothing and records nothing new.
    let csrf = page.csrf();
    let form = [
        ("csrf", csrf.as_str()),
        ("topic:safety", "on"),
        ("email_channel", "on"),
        ("email_opt_in", "on"),
        ("sms_opt_in", "on"),
        ("accept_terms", "on"),
        ("locale", "de"),
        ("time_zone", "Europe/Vienna"),
    ];
    assert_eq!(browser.post("/portal/preferences", &form).await.status, 303);
    let (_, again) = app.admin(Method::GET, &format!("/api/v1/members/{member}/consent"), None).await;
    assert_eq!(again.as_array().unwrap().len(), records.len());

    // The inbox is not a column a member can switch off, whatever a form says.
    let csrf = page.csrf();
    let form = [("csrf", csrf.as_str()), ("grid", "inbox"), ("locale", "de"), ("time_zone", "Europe/Vienna")];
    let bad = browser.post("/portal/preferences", &form).await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("inbox cannot be chosen by a member"), "{}", bad.body);

    // Turning a required topic off is not possible, and a bad time zone is a clear error.
    let csrf = page.csrf();
    let form = [("csrf", csrf.as_str()), ("locale", "de"), ("time_zone", "Mars/Olympus")];
    let bad = browser.post("/portal/preferences", &form).await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("Mars/Olympus"), "the error names the bad value");
    let (_, prefs) = app.admin(Method::GET, &format!("/api/v1/members/{member}/preferences"), None).await;
    assert_eq!(prefs["preferences"]["email_opted_in"], true, "nothing of a refused change is saved");

    // Working hours of their own: reminders wait for them; a bad one is a clear error.
    let form =
        [("csrf", csrf.as_str()), ("locale", "de"), ("time_zone", "Europe/Vienna"), ("working_hours", "Mo-Fr 9-5")];
    let bad = browser.post("/portal/preferences", &form).await;
    assert_eq!(bad.status, 400);
    assert!(bad.body.contains("mon-fri 09:00-17:00"), "the error shows how to write them: {}", bad.body);
    let form = [
        ("csrf", csrf.as_str()),
        ("email_opt_in", "on"),
        ("locale", "de"),
        ("time_zone", "Europe/Vienna"),
        ("working_hours", "mon-thu 07:30-15:30\r\n"),
    ];
    assert_eq!(browser.post("/portal/preferences", &form).await.status, 303);
    let (_, saved) = app.admin(Method::GET, &format!("/api/v1/members/{member}"), None).await;
    assert_eq!(saved["working_hours"], "mon-thu 07:30-15:30", "{saved}");
    assert!(browser.get("/portal/preferences").await.body.contains("value=\"mon-thu 07:30-15:30\""));
    app
}

async fn a_partner_lead_sees_and_reminds_only_their_own_colleagues(app: TestApp) -> TestApp {
    let (emails, ids, topic) = directory(&app).await;
    let (_, ana) = app.admin(Method::GET, &format!("/api/v1/members/{}", ids[0].as_str().unwrap()), None).await;
    let lead = json!({"partner_id": ana["partner_id"], "email": "lena@acme.example", "name": "Lena Lead",
                      "roles": ["operations", "partner_lead"]});
    assert_eq!(app.admin(Method::POST, "/api/v1/members", Some(lead)).await.0, 201);
    let ben = ids[1].as_str().unwrap();
    let consent = json!({"purpose": "email", "granted": true, "text_version": "v1"});
    assert_eq!(app.admin(Method::POST, &format!("/api/v1/members/{ben}/consent"), Some(consent)).await.0, 201);
    let recall =
        release(&app, &topic, &[&ids[0], &ids[1], &ids[2]], "critical", "Recall of lots A1 and B2", true).await;

    // Ana acknowledges through the inbox API.
    let member = ids[0].as_str().unwrap();
    let (_, token) = app.admin(Method::POST, &format!("/api/v1/members/{member}/token"), Some(json!({}))).await;
    let token = token["token"].as_str().unwrap().to_owned();
    let (_, shown) =
        crate::helpers::read(app.call(Method::GET, &format!("/api/v1/inbox/{recall}"), Some(&token), None).await).await;
    let body = json!({"content_hash": shown["rendered"]["content_hash"]});
    let acked = app.call(Method::POST, &format!("/api/v1/inbox/{recall}/acknowledge"), Some(&token), Some(body)).await;
    assert_eq!(acked.status(), 200);

    let mut browser = Browser::sign_in(&app, "lena@acme.example").await;
    let team = browser.get("/portal/team").await;
    assert_eq!(team.status, 200);
    assert!(team.body.contains("href=\"/portal/team\""), "leads have the team page in the menu");
    assert!(team.body.contains("Recall of lots A1 and B2"));
    assert!(team.body.contains("1 of 2 acknowledged"), "Ana and Ben are Acme's; Cleo is not counted");
    assert!(team.body.contains("What your company must do"), "the obligation is shown");
    assert!(team.body.contains("<li>Everyone asked: 1 of 2 acknowledged</li>"), "{}", team.body);
    let (pending, roles) = team.body.split_once("id=\"roles\"").expect("the roles section follows");
    assert!(pending.contains(&emails[1]), "Ben has not acknowledged");
    for other in [&emails[0], &emails[2], &emails[3]] {
        assert!(!pending.contains(other.as_str()), "{other} is not listed as outstanding");
    }
    // Who answers for support: Lena may name Acme's support people (not Globex's).
    assert!(roles.contains("Who answers for each role") && roles.contains(&emails[0]), "{roles}");
    assert!(!roles.contains(&emails[2]), "Globex's people are not Lena's to name");
    let ana_id = ids[0].as_str().unwrap();
    let named = browser.post("/portal/team/roles/support", &[("csrf", &team.csrf()), ("member_id", ana_id)]).await;
    assert_eq!((named.status, named.location.as_deref()), (303, Some("/portal/team#roles")));
    let (_, answers) =
        app.admin(Method::GET, &format!("/api/v1/partners/{}/roles", ana["partner_id"].as_str().unwrap()), None).await;
    let support = answers.as_array().unwrap().iter().find(|a| a["role"] == "support").unwrap().clone();
    assert_eq!(support["nominee"]["member_id"], ids[0], "{answers}");
    assert_eq!(support["nominee"]["nominated_by"], "lena@acme.example");
    let cleo = ids[2].as_str().unwrap();
    let refused = browser.post("/portal/team/roles/support", &[("csrf", &team.csrf()), ("member_id", cleo)]).await;
    assert_eq!(refused.status, 303);
    let team = browser.get("/portal/team").await;
    assert!(team.body.contains("does not work at this partner"), "the refusal is said: {}", team.body);
    let before = app.smtp.received().len();
    let reminded = browser.post(&format!("/portal/team/{recall}/remind"), &[("csrf", &team.csrf())]).await;
    assert_eq!((reminded.status, reminded.location.as_deref()), (303, Some("/portal/team")), "{}", reminded.body);
    let team = browser.get("/portal/team").await;
    assert!(team.body.contains("1 of them by email"), "only Ben may be mailed");
    assert!(team.body.contains("The next reminder can go"));
    for _ in 0..200 {
        if app.smtp.received().len() > before {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mails = app.smtp.received();
    let reminder = mails.last().unwrap();
    assert_eq!(reminder.to, vec![emails[1].clone()]);
    assert!(reminder.subject().contains("Reminder: Recall of lots"));
    assert!(reminder.text().contains(&format!("/portal/messages/{recall}")));
    let again = browser.post(&format!("/portal/team/{recall}/remind"), &[("csrf", &team.csrf())]).await;
    assert_eq!(again.status, 409, "once a day at most");

    // Not a lead: no team page, no reminders.
    let mut ben_browser = Browser::sign_in(&app, &emails[1]).await;
    let inbox = ben_browser.get("/portal").await;
    assert!(!inbox.body.contains("href=\"/portal/team\""));
    assert_eq!(ben_browser.get("/portal/team").await.status, 404);
    let refused = ben_browser.post(&format!("/portal/team/{recall}/remind"), &[("csrf", &inbox.csrf())]).await;
    assert_eq!(refused.status, 404);
    app
}

async fn a_member_sets_a_password_and_signs_in_with_it(app: TestApp) -> TestApp {
    let (emails, _, _) = directory(&app).await;
    let ben = emails[1].as_str();
    let mut browser = Browser::sign_in(&app, ben).await;
    let prefs = browser.get("/portal/preferences").await;
    assert!(!prefs.body.contains("You have a password"));
    let short = browser
        .post(
            "/portal/preferences/password",
            &[("csrf", &prefs.csrf()), ("password", "short"), ("confirm", "short"), ("action", "set")],
        )
        .await;
    assert_eq!(short.status, 400);
    assert!(short.body.contains("Use 12 to 200 characters"));
    let csrf = prefs.csrf();
    let set_password = |password: &'static str, confirm: &'static str| {
        [("csrf", csrf.clone()), ("password", password.into()), ("confirm", confirm.into()), ("action", "set".into())]
    };
    let differ = set_password("correct horse battery", "correct horse staple");
    assert!(
        browser.post("/portal/preferences/password", &fields(&differ)).await.body.contains("The two passwords differ")
    );
    let good = set_password("correct horse battery", "correct horse battery");
    let set = browser.post("/portal/preferences/password", &fields(&good)).await;
    assert_eq!(set.status, 303);
    assert!(browser.get("/portal/preferences").await.body.contains("You have a password"));
    let inbox = browser.get("/portal").await;
    browser.post("/portal/sign-out", &[("csrf", &inbox.csrf())]).await;

    let mut visitor = Browser::new(&app);
    let form = visitor.get("/portal/sign-in").await;
    let attempt = |email: &'static str, password: &'static str| {
        [("csrf", form.csrf()), ("email", email.to_owned()), ("password", password.to_owned())]
    };
    for (email, password) in [
        ("ben@acme.example", "wrong password!!"),
        ("nobody@acme.example", "correct horse battery"),
        ("ana@acme.example", "correct horse battery"),
    ] {
        let refused = visitor.post("/portal/sign-in/password", &fields(&attempt(email, password))).await;
        assert_eq!(refused.status, 400, "{email}");
        assert!(refused.body.contains("The email address or the password is wrong"), "the same answer for {email}");
    }
    let signed =
        visitor.post("/portal/sign-in/password", &fields(&attempt("ben@acme.example", "correct horse battery"))).await;
    assert_eq!((signed.status, signed.location.as_deref()), (303, Some("/portal")), "{}", signed.body);
    assert_eq!(visitor.get("/portal").await.status, 200);
    app
}

/// A member signed in on two devices changes their password on one: the change needs the
/// current password (a session alone is not proof), and the other device is signed out.
async fn a_password_change_asks_for_the_current_one_and_ends_every_other_session(app: TestApp) -> TestApp {
    let (emails, _, _) = directory(&app).await;
    let ben = emails[1].as_str();
    let mut laptop = Browser::sign_in(&app, ben).await;
    let prefs = laptop.get("/portal/preferences").await;
    let first = [
        ("csrf", prefs.csrf()),
        ("password", "correct horse battery".into()),
        ("confirm", "correct horse battery".into()),
        ("action", "set".into()),
    ];
    assert_eq!(laptop.post("/portal/preferences/password", &fields(&first)).await.status, 303, "the first needs none");
    let mut phone = Browser::sign_in(&app, ben).await;
    assert_eq!(phone.get("/portal").await.status, 200);

    let prefs = laptop.get("/portal/preferences").await;
    assert!(prefs.body.contains("name=\"current\""), "the form asks for the current password");
    let change = |current: &str| {
        [
            ("csrf", prefs.csrf()),
            ("current", current.to_owned()),
            ("password", "a brand new passphrase".to_owned()),
            ("confirm", "a brand new passphrase".to_owned()),
            ("action", "set".to_owned()),
        ]
    };
    for wrong in ["", "not my password!!"] {
        let refused = laptop.post("/portal/preferences/password", &fields(&change(wrong))).await;
        assert_eq!(refused.status, 400, "{wrong:?}");
        assert!(refused.body.contains("The current password is wrong"), "{wrong:?}");
    }
    assert_eq!(phone.get("/portal").await.status, 200, "a refused change signs nobody out");
    let changed = laptop.post("/portal/preferences/password", &fields(&change("correct horse battery"))).await;
    assert_eq!(changed.status, 303, "{}", changed.body);
    assert_eq!(laptop.get("/portal").await.status, 200, "the device that changed it stays signed in");
    let gone = phone.get("/portal").await;
    assert_eq!(
        (gone.status, gone.location.as_deref()),
        (303, Some("/portal/sign-in")),
        "the other device is signed out"
    );

    // Removing the password needs it too, and ends the other sessions as well.
    let mut tablet = Browser::sign_in(&app, ben).await;
    let prefs = laptop.get("/portal/preferences").await;
    let remove =
        [("csrf", prefs.csrf()), ("current", "a brand new passphrase".to_owned()), ("action", "remove".to_owned())];
    assert_eq!(laptop.post("/portal/preferences/password", &fields(&remove)).await.status, 303);
    assert_eq!(tablet.get("/portal").await.status, 303);
    app
}
