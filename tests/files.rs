//! `/functions/v1/files`: uploads checked by their bytes with a metadata-free processed copy in
//! R2 (wrangler's local bucket), downloads authorized by RLS for the creator, the team and a
//! share link's holder, bad input answered 4xx, and the retention cron purging originals.

use libtest_mimic::Trial;

use crate::expect_error;
use crate::support::*;

pub fn trials() -> Vec<Trial> {
    vec![
        Trial::test(
            "files: refuses a request without credentials (401 missing_credentials)",
            without_credentials,
        ),
        Trial::test(
            "files: the creator, a team member and a share link download; the copy has no metadata",
            three_tiers_download,
        ),
        Trial::test(
            "files: another tenant's file id is 404 (download, delete, share); their list is empty",
            other_tenant_is_404,
        ),
        Trial::test(
            "files: wrong type 415, oversized 413, damaged or unnamed 400, never a 500",
            bad_uploads,
        ),
        Trial::test(
            "files: uploads spend the workspace's file budget (both copies' bytes); exhausted is 429",
            uploads_spend_the_file_budget,
        ),
        Trial::test(
            "files: only the creator deletes (a member 403); both objects go",
            delete_by_creator_only,
        ),
        Trial::test(
            "files: after 31 days the cron purges the original (410); the processed copy stays",
            originals_purged_after_retention,
        ),
    ]
}

/// A PNG chunk (the CRC is not checked by the platform: it never decodes).
fn png_chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut chunk = (data.len() as u32).to_be_bytes().to_vec();
    chunk.extend_from_slice(kind);
    chunk.extend_from_slice(data);
    chunk.extend_from_slice(&[0; 4]);
    chunk
}

/// A PNG with `extra` chunks between its header and its pixels.
fn png(extra: &[(&[u8; 4], &[u8])]) -> Vec<u8> {
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend(png_chunk(b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0]));
    for (kind, data) in extra {
        bytes.extend(png_chunk(kind, data));
    }
    bytes.extend(png_chunk(
        b"IDAT",
        b"\x78\x9c\x63\x00\x01\x00\x00\x05\x00\x01",
    ));
    bytes.extend(png_chunk(b"IEND", b""));
    bytes
}

/// A photo carrying where it was taken, as phones write it.
fn png_with_location() -> Vec<u8> {
    png(&[
        (b"eXIf", b"MM\0*GPS 51.5007N 0.1246W"),
        (b"tEXt", b"Author\0Jane Doe"),
    ])
}

struct Team {
    owner: TestUser,
    member: TestUser,
    workspace: String,
}

fn team(tag: &str) -> Team {
    let owner = TestUser::fresh(&format!("files-owner-{tag}"));
    let member = TestUser::fresh(&format!("files-member-{tag}"));
    let workspace = fresh_workspace(&owner.id, &format!("files {tag}"));
    join_workspace(&workspace, &member.id, "member");
    Team {
        owner,
        member,
        workspace,
    }
}

fn upload(user: &TestUser, workspace: &str, query: &str, content_type: &str, body: &[u8]) -> Reply {
    let auth = user.auth();
    send_binary(
        "POST",
        &functions_url(&format!("files?workspace={workspace}&{query}")),
        &[("authorization", &auth), ("content-type", content_type)],
        Some(body),
    )
    .text()
}

fn uploaded(
    user: &TestUser,
    workspace: &str,
    query: &str,
    content_type: &str,
    body: &[u8],
) -> String {
    let reply = upload(user, workspace, query, content_type, body);
    assert_eq!(reply.status, 201, "uploaded: {}", reply.body);
    id_of(&reply.json())
}

fn download(user: Option<&TestUser>, id: &str, variant: &str) -> BinaryReply {
    let auth = user.map(TestUser::auth).unwrap_or_default();
    let headers: Vec<(&str, &str)> = user
        .map(|_| ("authorization", auth.as_str()))
        .into_iter()
        .collect();
    send_binary(
        "GET",
        &functions_url(&format!("files/content?id={id}&variant={variant}")),
        &headers,
        None,
    )
}

fn without_credentials() -> TestResult {
    let reply = get(&functions_url("files"), &[]);
    expect_error(&reply, 401, "missing_credentials")
}

fn three_tiers_download() -> TestResult {
    let team = team("tiers");
    let photo = png_with_location();
    let reply = upload(
        &team.member,
        &team.workspace,
        "name=holiday%20photo.png",
        "image/png",
        &photo,
    );
    check!(reply.status == 201, "{} {}", reply.status, reply.body);
    let file = reply.json();
    let id = id_of(&file);
    check!(file["content_type"] == "image/png", "{file}");
    check!(file["name"] == "holiday photo.png", "{file}");
    check!(file["original_bytes"] == photo.len(), "{file}");

    // The creator gets the original back byte for byte, and a copy without the location.
    let original = download(Some(&team.member), &id, "original");
    check!(original.status == 200, "{}", original.text().body);
    check!(original.body == photo, "the original as uploaded");
    let processed = download(Some(&team.member), &id, "processed");
    check!(processed.status == 200, "{}", processed.text().body);
    check!(
        processed.body == png(&[]),
        "the copy keeps pixels, drops eXIf and tEXt"
    );
    check!(
        processed.content_type == "image/png",
        "{}",
        processed.content_type
    );
    check!(
        processed.disposition.starts_with("attachment;")
            && processed
                .disposition
                .contains("filename*=UTF-8''holiday%20photo.png"),
        "{}",
        processed.disposition
    );

    // A team member (here the owner) reads it too; nobody without a token does.
    check!(
        download(Some(&team.owner), &id, "processed").body == png(&[]),
        "team read"
    );
    expect_error(
        &download(None, &id, "processed").text(),
        401,
        "missing_credentials",
    )?;

    // A share link (managers create it) opens the processed copy to anyone holding its token.
    let member_share = post(
        &functions_url(&format!("files/share?id={id}")),
        &[("authorization", &team.member.auth())],
        b"",
    );
    expect_error(&member_share, 403, "forbidden")?;
    let link = post(
        &functions_url(&format!("files/share?id={id}&expires_in_days=7")),
        &[("authorization", &team.owner.auth())],
        b"",
    );
    check!(link.status == 201, "{} {}", link.status, link.body);
    let link = link.json();
    check!(link["file_id"] == id.as_str(), "{link}");
    let token = link["token"].as_str().ok_or("a token")?;
    let shared_url = functions_url("files/shared");
    let shared = send_binary("GET", &shared_url, &[("x-share-token", token)], None);
    check!(shared.status == 200, "{}", shared.text().body);
    check!(
        shared.body == png(&[]),
        "a share link gets the processed copy only"
    );
    expect_error(&get(&shared_url, &[]), 404, "not_found")?;
    expect_error(
        &get(&shared_url, &[("x-share-token", "not-a-live-token")]),
        404,
        "not_found",
    )?;
    // The notes' revocation revokes it.
    let revoked = post(
        &functions_url(&format!("share-links/revoke?id={}", id_of(&link))),
        &[("authorization", &team.owner.auth())],
        b"",
    );
    check!(revoked.status == 200, "{}", revoked.body);
    expect_error(
        &get(&shared_url, &[("x-share-token", token)]),
        404,
        "not_found",
    )?;

    // A private file is its creator's alone.
    let private = uploaded(
        &team.member,
        &team.workspace,
        "name=notes.txt&visibility=private",
        "text/plain",
        b"mine",
    );
    check!(
        download(Some(&team.member), &private, "processed").body == b"mine",
        "creator reads"
    );
    expect_error(
        &download(Some(&team.owner), &private, "processed").text(),
        404,
        "not_found",
    )?;
    let listed = get(
        &functions_url(&format!("files?workspace={}", team.workspace)),
        &[("authorization", &team.owner.auth())],
    );
    check!(listed.status == 200, "{}", listed.body);
    let ids: Vec<String> = listed
        .json()
        .as_array()
        .ok_or("a list")?
        .iter()
        .map(id_of)
        .collect();
    check!(
        ids == vec![id.clone()],
        "the owner lists the team file only: {ids:?}"
    );
    Ok(())
}

fn other_tenant_is_404() -> TestResult {
    let victim = team("victim");
    let attacker = team("attacker");
    let id = uploaded(
        &victim.owner,
        &victim.workspace,
        "name=secret.txt",
        "text/plain; charset=utf-8",
        b"victim data",
    );
    for variant in ["processed", "original"] {
        expect_error(
            &download(Some(&attacker.owner), &id, variant).text(),
            404,
            "not_found",
        )?;
    }
    let auth = attacker.owner.auth();
    expect_error(
        &delete(
            &functions_url(&format!("files?id={id}")),
            &[("authorization", &auth)],
        ),
        404,
        "not_found",
    )?;
    expect_error(
        &post(
            &functions_url(&format!("files/share?id={id}")),
            &[("authorization", &auth)],
            b"",
        ),
        404,
        "not_found",
    )?;
    let listed = get(
        &functions_url(&format!("files?workspace={}", victim.workspace)),
        &[("authorization", &auth)],
    );
    check!(
        listed.status == 200 && listed.json() == serde_json::json!([]),
        "{}",
        listed.body
    );
    // Uploading into the victim's workspace.
    let intrusion = upload(
        &attacker.owner,
        &victim.workspace,
        "name=x.txt",
        "text/plain",
        b"planted",
    );
    // The database refuses the outsider's budget reservation (403, the same for a workspace that
    // does not exist): nothing is stored.
    expect_error(&intrusion, 403, "forbidden")?;
    let victim_files = files_in(&victim.workspace);
    check!(victim_files == 1, "nothing planted: {victim_files}");
    // The victim still reads their file.
    check!(
        download(Some(&victim.owner), &id, "original").body == b"victim data",
        "intact"
    );
    Ok(())
}

fn bad_uploads() -> TestResult {
    let team = team("bad");
    let ws = &team.workspace;
    let user = &team.member;
    let photo = png_with_location();
    let gif: &[u8] = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00;";
    let refused: [(&str, &str, &[u8], u16, &str); 9] = [
        ("name=a.gif", "image/gif", gif, 415, "unsupported_file_type"),
        (
            "name=a.exe",
            "text/plain",
            b"MZ\x90\x00\x03\x00\x00\x00",
            415,
            "unsupported_file_type",
        ),
        (
            "name=a.png",
            "image/png",
            b"<svg onload=alert(1)>",
            415,
            "content_type_mismatch",
        ),
        (
            "name=a.txt",
            "text/html",
            b"<b>hi</b>",
            415,
            "content_type_mismatch",
        ),
        (
            "name=a.png",
            "image/png",
            &photo[..photo.len() - 20],
            400,
            "malformed_file",
        ),
        ("name=a.txt", "text/plain", b"", 400, "empty_file"),
        ("visibility=team", "text/plain", b"x", 400, "missing_query"),
        ("name=..%2Fescape", "text/plain", b"x", 400, "invalid_query"),
        (
            "name=a.txt&visibility=public",
            "text/plain",
            b"x",
            400,
            "invalid_query",
        ),
    ];
    for (query, content_type, body, status, code) in refused {
        let reply = upload(user, ws, query, content_type, body);
        expect_error(&reply, status, code).map_err(|e| format!("{query} {content_type}: {e:?}"))?;
    }
    expect_error(
        &upload(user, "not-a-uuid", "name=a.txt", "text/plain", b"x"),
        400,
        "invalid_workspace",
    )?;
    // One byte over 5 MiB: 413 from Content-Length, before the body is read.
    let oversized = vec![b'a'; 5 * 1024 * 1024 + 1];
    expect_error(
        &upload(user, ws, "name=big.txt", "text/plain", &oversized),
        413,
        "payload_too_large",
    )?;
    let bad_id = download(Some(user), "not-a-uuid", "processed").text();
    expect_error(&bad_id, 400, "invalid_query")?;
    let bad_variant = download(Some(user), "c7000000-0000-4000-8000-000000000001", "raw").text();
    expect_error(&bad_variant, 400, "invalid_query")?;
    let stored = files_in(ws);
    check!(stored == 0, "no bad upload stored a row: {stored}");
    // Exactly at the cap is accepted.
    let at_cap = vec![b'a'; 5 * 1024 * 1024];
    let reply = upload(user, ws, "name=cap.txt", "text/plain", &at_cap);
    check!(reply.status == 201, "{} {}", reply.status, reply.body);
    Ok(())
}

fn delete_by_creator_only() -> TestResult {
    let team = team("delete");
    let id = uploaded(
        &team.member,
        &team.workspace,
        "name=gone.txt",
        "text/plain",
        b"bye",
    );
    let url = functions_url(&format!("files?id={id}"));
    expect_error(
        &delete(&url, &[("authorization", &team.owner.auth())]),
        403,
        "forbidden",
    )?;
    let deleted = delete(&url, &[("authorization", &team.member.auth())]);
    check!(
        deleted.status == 200 && deleted.json()["id"] == id.as_str(),
        "{}",
        deleted.body
    );
    expect_error(
        &download(Some(&team.member), &id, "processed").text(),
        404,
        "not_found",
    )?;
    expect_error(
        &delete(&url, &[("authorization", &team.member.auth())]),
        404,
        "not_found",
    )?;
    Ok(())
}

fn purge_runs() -> i64 {
    superuser()
        .query_one(
            "select count(*) from public.cron_runs where job = 'purge_file_originals'",
            &[],
        )
        .unwrap()
        .get(0)
}

fn originals_purged_after_retention() -> TestResult {
    let team = team("retention");
    let text = "\u{feff}first line\r\nsecond line\r\n".as_bytes();
    let old = uploaded(
        &team.member,
        &team.workspace,
        "name=old.txt",
        "text/plain",
        text,
    );
    let recent = uploaded(
        &team.member,
        &team.workspace,
        "name=recent.txt",
        "text/plain",
        text,
    );
    // The clock moves, not the test: the old file was uploaded 31 days ago.
    superuser()
        .execute(
            "update public.files set created_at = now() - interval '31 days' where id = $1::text::uuid",
            &[&old],
        )
        .unwrap();
    let runs = purge_runs();
    let secret = var("CRON_SECRETS").split(',').next().unwrap();
    let cron = post(
        &functions_url("cron-retention"),
        &[("x-cron-secret", secret)],
        b"",
    );
    check!(cron.status == 200, "{} {}", cron.status, cron.body);
    check!(
        cron.json()["file_originals_purged"].as_i64() >= Some(1),
        "{}",
        cron.body
    );
    check!(purge_runs() == runs + 1, "the run is recorded in cron_runs");

    expect_error(
        &download(Some(&team.member), &old, "original").text(),
        410,
        "original_purged",
    )?;
    let copy = download(Some(&team.member), &old, "processed");
    check!(copy.status == 200, "{}", copy.text().body);
    check!(
        copy.body == b"first line\nsecond line\n",
        "the normalised copy stays"
    );
    check!(
        copy.content_type == "text/plain; charset=utf-8",
        "{}",
        copy.content_type
    );
    let purged_at: Option<String> = superuser()
        .query_one(
            "select original_purged_at::text from public.files where id = $1::text::uuid",
            &[&old],
        )
        .unwrap()
        .get(0);
    check!(purged_at.is_some(), "marked purged");
    // In the bucket itself: the old file's processed copy only.
    let old_objects = r2_keys_under(&format!("{}/{old}/", team.workspace));
    check!(
        old_objects == [format!("{}/{old}/processed", team.workspace)],
        "objects of the old file: {old_objects:?}"
    );
    // A file inside the window keeps its original.
    check!(
        download(Some(&team.member), &recent, "original").body == text,
        "recent original kept"
    );
    Ok(())
}

fn file_meter(workspace: &str) -> (i64, i64, i64) {
    let row = superuser()
        .query_one(
            "select spent, reserved, limit_amount from public.budget_usage
              where workspace_id = $1::text::uuid and meter = 'file'",
            &[&workspace],
        )
        .unwrap();
    (row.get(0), row.get(1), row.get(2))
}

fn uploads_spend_the_file_budget() -> TestResult {
    let team = team("budget");
    let photo = png_with_location();
    uploaded(
        &team.member,
        &team.workspace,
        "name=a.png",
        "image/png",
        &photo,
    );
    let (spent, reserved, limit) = file_meter(&team.workspace);
    let both_copies = (photo.len() + png(&[]).len()) as i64;
    check!(
        spent == both_copies && reserved == 0,
        "spent {spent}, reserved {reserved}"
    );
    // A refused upload spends nothing.
    expect_error(
        &upload(
            &team.member,
            &team.workspace,
            "name=a.gif",
            "image/gif",
            b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00;",
        ),
        415,
        "unsupported_file_type",
    )?;
    check!(
        file_meter(&team.workspace).0 == both_copies,
        "nothing spent on a refusal"
    );
    superuser().execute(
        "update public.budget_usage set spent = limit_amount - 10
          where workspace_id = $1::text::uuid and meter = 'file'",
        &[&team.workspace],
    )?;
    let refused = upload(
        &team.member,
        &team.workspace,
        "name=b.txt",
        "text/plain",
        b"eleven bytes",
    );
    expect_error(&refused, 429, "budget_exhausted")?;
    check!(
        refused.json()["error"]["meter"] == "file",
        "{}",
        refused.body
    );
    let stored = files_in(&team.workspace);
    check!(stored == 1, "the refused upload stored nothing: {stored}");
    check!(
        file_meter(&team.workspace) == (limit - 10, 0, limit),
        "nothing reserved is left open"
    );
    Ok(())
}

/// How many file rows `workspace` holds (as the superuser: what is really stored).
fn files_in(workspace: &str) -> i64 {
    superuser()
        .query_one(
            "select count(*) from public.files where workspace_id = $1::text::uuid",
            &[&workspace],
        )
        .unwrap()
        .get(0)
}
