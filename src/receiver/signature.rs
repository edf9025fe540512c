pub struct WebhookSecret(String);
impl WebhookSecret {
    pub fn new(raw: String) -> Self {
        Self(raw)
    }
    pub fn expose(&self) -> &[u8] {
        self.0.as_bytes()
    }
}
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SignatureError {
    #[error("mismatch")]
    Mismatch,
}
pub struct HubSpotHeaders<'a> {
    pub signature_v3: Option<&'a str>,
    pub timestamp: Option<&'a str>,
    pub signature: Option<&'a str>,
    pub version: Option<&'a str>,
}
pub struct HubSpotRequest<'a> {
    pub method: &'a str,
    pub public_base_url: &'a str,
    pub path_and_query: &'a str,
    pub body: &'a [u8],
}
pub fn verify_hubspot(
    _s: &WebhookSecret,
    _h: &HubSpotHeaders,
    _r: &HubSpotRequest,
    _now: i64,
    _t: i64,
) -> Result<(), SignatureError> {
    Ok(())
}
pub fn verify_clickup(_s: &WebhookSecret, _h: Option<&str>, _b: &[u8]) -> Result<(), SignatureError> {
    Ok(())
}
pub fn sign_hubspot_v1(_s: &WebhookSecret, _b: &[u8]) -> String {
    String::new()
}
pub fn sign_hubspot_v3(_s: &WebhookSecret, _m: &str, _u: &str, _b: &[u8], _t: &str) -> String {
    String::new()
}
pub fn sign_clickup(_s: &WebhookSecret, _b: &[u8]) -> String {
    String::new()
}
