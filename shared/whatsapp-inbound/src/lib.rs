//! The inbound WhatsApp text messages of a verified Meta `messages` delivery
//! (`entry[].changes[].value.messages[]` with `type: "text"`, filed by
//! `value.metadata.phone_number_id`), as the webhook hands them to the reply consumer through a
//! Cloudflare Queue. Anything that is not a well-formed text message (statuses, media, other
//! objects, malformed ids) is left out: it is stored with the delivery, never answered.

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// WhatsApp's own cap on a text message body.
pub const MAX_TEXT_CHARS: usize = 4096;

/// One inbound text message: the queue message the reply consumer gets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct InboundText {
    /// Meta's message id (`wamid.…`): the key that makes a redelivery a duplicate.
    pub wamid: String,
    /// The business number it was sent to.
    pub phone_number_id: String,
    /// The customer's WhatsApp id (their number), where the reply goes.
    pub from: String,
    pub text: String,
}

/// Every text message in `payload`, in delivery order.
pub fn inbound_texts(payload: &Value) -> Vec<InboundText> {
    if payload["object"] != "whatsapp_business_account" {
        return Vec::new();
    }
    let values = payload["entry"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|entry| entry["changes"].as_array().into_iter().flatten())
        .filter(|change| change["field"] == "messages")
        .map(|change| &change["value"]);
    values
        .flat_map(|value| {
            let phone_number_id = value["metadata"]["phone_number_id"].as_str();
            value["messages"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(move |message| text_message(phone_number_id?, message))
        })
        .collect()
}

fn text_message(phone_number_id: &str, message: &Value) -> Option<InboundText> {
    if message["type"] != "text" {
        return None;
    }
    let inbound = InboundText {
        wamid: message["id"].as_str()?.to_owned(),
        phone_number_id: phone_number_id.to_owned(),
        from: message["from"].as_str()?.to_owned(),
        text: message["text"]["body"].as_str()?.to_owned(),
    };
    let digits =
        |s: &str, max: usize| (1..=max).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_digit());
    let well_formed = (1..=200).contains(&inbound.wamid.len())
        && inbound.wamid.bytes().all(|b| b.is_ascii_graphic())
        && digits(&inbound.phone_number_id, 32)
        && digits(&inbound.from, 20)
        && !inbound.text.trim().is_empty()
        && inbound.text.chars().count() <= MAX_TEXT_CHARS;
    well_formed.then_some(inbound)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn delivery(messages: Value) -> Value {
        json!({
            "object": "whatsapp_business_account",
            "entry": [{ "id": "100", "changes": [{ "field": "messages", "value": {
                "messaging_product": "whatsapp",
                "metadata": { "display_phone_number": "15550001111", "phone_number_id": "1234" },
                "messages": messages,
            }}]}]
        })
    }

    #[test]
    fn text_messages_are_taken_with_their_number() {
        let payload = delivery(json!([
            { "from": "5491100000000", "id": "wamid.A", "timestamp": "1", "type": "text", "text": { "body": "hola" } },
            { "from": "5491100000001", "id": "wamid.B", "timestamp": "1", "type": "text", "text": { "body": "¿precio?" } },
        ]));
        assert_eq!(
            inbound_texts(&payload),
            vec![
                InboundText {
                    wamid: "wamid.A".into(),
                    phone_number_id: "1234".into(),
                    from: "5491100000000".into(),
                    text: "hola".into()
                },
                InboundText {
                    wamid: "wamid.B".into(),
                    phone_number_id: "1234".into(),
                    from: "5491100000001".into(),
                    text: "¿precio?".into()
                },
            ]
        );
    }

    #[test]
    fn statuses_media_and_malformed_messages_are_left_out() {
        let payload = delivery(json!([
            { "from": "549", "id": "wamid.img", "type": "image", "image": { "id": "1" } },
            { "from": "not digits", "id": "wamid.C", "type": "text", "text": { "body": "x" } },
            { "from": "549", "id": "wamid.D", "type": "text", "text": { "body": "   " } },
            { "from": "549", "id": "wamid E", "type": "text", "text": { "body": "x" } },
            { "from": "549", "id": "wamid.F", "type": "text", "text": { "body": "x".repeat(MAX_TEXT_CHARS + 1) } },
            { "from": "549", "type": "text", "text": { "body": "no id" } },
        ]));
        assert!(inbound_texts(&payload).is_empty());
        let mut statuses = delivery(json!([]));
        statuses["entry"][0]["changes"][0]["value"]["statuses"] =
            json!([{ "id": "wamid.S", "status": "read" }]);
        assert!(inbound_texts(&statuses).is_empty());
        let mut other = delivery(
            json!([{ "from": "549", "id": "wamid.G", "type": "text", "text": { "body": "x" } }]),
        );
        other["object"] = json!("page");
        assert!(inbound_texts(&other).is_empty());
        let mut no_number = delivery(
            json!([{ "from": "549", "id": "wamid.H", "type": "text", "text": { "body": "x" } }]),
        );
        no_number["entry"][0]["changes"][0]["value"]["metadata"] = json!({});
        assert!(inbound_texts(&no_number).is_empty());
    }

    #[test]
    fn the_queue_message_has_a_stable_shape() {
        let message = InboundText {
            wamid: "wamid.A".into(),
            phone_number_id: "1".into(),
            from: "2".into(),
            text: "t".into(),
        };
        let wire = serde_json::to_value(&message).unwrap();
        assert_eq!(
            wire,
            json!({ "wamid": "wamid.A", "phone_number_id": "1", "from": "2", "text": "t" })
        );
        assert_eq!(
            serde_json::from_value::<InboundText>(wire).unwrap(),
            message
        );
    }
}
