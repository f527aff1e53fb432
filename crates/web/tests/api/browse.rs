//! A browser over plain HTTP, as the portal and console tests use it: cookies kept by
//! hand, forms posted with their CSRF token, redirects not followed.

use reqwest::Method;
use reqwest::header::{COOKIE, LOCATION, SET_COOKIE};

use crate::helpers::TestApp;

/// A browser: one session cookie (the portal's or the console's), no automatic redirects.
pub struct Browser {
    pub client: reqwest::Client,
    pub base: String,
    pub cookie: Option<String>,
    pub language: &'static str,
}

pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub set_cookie: Option<String>,
    pub body: String,
}

impl Page {
    /// The inbox list alone (not the pop-up or the filters).
    pub fn list(&self) -> &str {
        let start = self.body.find("<ul class=\"messages\">").unwrap_or(self.body.len());
        let end = self.body[start..].find("</ul>").map_or(self.body.len(), |e| start + e);
        &self.body[start..end]
    }

    /// The value of the page's first hidden field with this name.
    pub fn field(&self, name: &str) -> String {
        let marker = format!("name=\"{name}\" value=\"");
        let at = self.body.find(&marker).unwrap_or_else(|| panic!("no field {name}")) + marker.len();
        self.body[at..].split('"').next().unwrap().to_owned()
    }

    pub fn csrf(&self) -> String {
        self.field("csrf")
    }
}

/// Form fields with owned values, as the post helpers take them.
pub fn fields<'a>(owned: &'a [(&'static str, String)]) -> Vec<(&'static str, &'a str)> {
    owned.iter().map(|(name, value)| (*name, value.as_str())).collect()
}

impl Browser {
    pub fn new(app: &TestApp) -> Self {
        let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        Self { client, base: app.base.clone(), cookie: None, language: "en" }
    }

    pub async fn send(&mut self, method: Method, path: &str, form: Option<&[(&str, &str)]>) -> Page {
        let url = if path.starts_with("http") { path.to_owned() } else { format!("{}{path}", self.base) };
        let mut request = self.client.request(method, url).header("accept-language", self.language);
        if let Some(cookie) = &self.cookie {
            request = request.header(COOKIE, cookie);
        }
        if let Some(form) = form {
            request = request
                .header("content-type", "application/x-www-form-urlencoded")
                .body(serde_urlencoded::to_string(form).unwrap());
        }
        let response = request.send().await.unwrap();
        let header =
            |name| response.headers().get(name).map(|v: &reqwest::header::HeaderValue| v.to_str().unwrap().to_owned());
        let (location, set_cookie) = (header(LOCATION), header(SET_COOKIE));
        if let Some(set) = &set_cookie {
            let pair = set.split(';').next().unwrap().to_owned();
            // tower-sessions clears a flushed session with an empty, expired cookie.
            self.cookie = if pair.ends_with('=') { None } else { Some(pair) };
        }
        let status = response.status().as_u16();
        Page { status, location, set_cookie, body: response.text().await.unwrap() }
    }

    pub async fn get(&mut self, path: &str) -> Page {
        self.send(Method::GET, path, None).await
    }

    pub async fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        self.send(Method::POST, path, Some(form)).await
    }
}
