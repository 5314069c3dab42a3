// The demo SPA's screens: list the signed-in user's notes, create one and share it, open a share
// link (`#share=<token>`: the token stays in the fragment, never sent to a server). Every
// call is supabase-js `functions.invoke` across origins to the functions (CORS allowlist).
// The session arrives in the URL fragment as Supabase's sign-in redirect puts it
// (`#access_token=…`); `ci/dev-token a` mints one locally. The fragment is never sent to a server.
const { supabaseUrl, anonKey } = window.SPA_CONFIG;
const params = new URLSearchParams(location.hash.slice(1));
const accessToken = params.get("access_token");
history.replaceState(null, "", location.pathname);

// A session from elsewhere (here: minted locally): supabase-js sends it as the bearer token.
const supabase = window.supabase.createClient(supabaseUrl, anonKey, {
  accessToken: async () => accessToken,
});

const $ = (selector) => document.querySelector(selector);
document.getElementById("origin").textContent = `This page: ${location.origin} · API: ${supabaseUrl}`;

function showStatus(text, isError = false) {
  const status = $("#status");
  status.textContent = text;
  status.className = isError ? "error" : "";
  status.dataset.state = isError ? "error" : "ok";
}

function show(screen) {
  for (const section of document.querySelectorAll("section")) {
    section.hidden = section.id !== `screen-${screen}`;
  }
  for (const button of document.querySelectorAll("nav button")) {
    button.toggleAttribute("aria-current", button.dataset.screen === screen);
    if (button.dataset.screen === screen) button.setAttribute("aria-current", "page");
  }
}

// A failed invoke: the function's JSON error when it answered, else why the browser refused.
async function describe(error) {
  const response = error.context;
  if (response && typeof response.json === "function") {
    const body = await response.json().catch(() => ({}));
    return `${response.status} ${body?.error?.code ?? ""}`.trim();
  }
  return `${error.name}: ${error.message}`;
}

async function listNotes() {
  show("list");
  showStatus("Loading notes…");
  const { data, error } = await supabase.functions.invoke("notes", { method: "GET" });
  if (error) return showStatus(`Could not load notes: ${await describe(error)}`, true);
  const list = $("#notes");
  list.replaceChildren(
    ...data.map((note) => {
      const item = document.createElement("li");
      item.textContent = note.body;
      item.dataset.id = note.id;
      return item;
    }),
  );
  if (!$("#note-workspace").value && data[0]) $("#note-workspace").value = data[0].workspace_id;
  showStatus(`${data.length} notes`);
}

async function createNote(event) {
  event.preventDefault();
  showStatus("Saving…");
  const { data, error } = await supabase.functions.invoke("notes", {
    method: "POST",
    body: { workspace_id: $("#note-workspace").value.trim(), body: $("#note-body").value },
  });
  if (error) return showStatus(`Could not save the note: ${await describe(error)}`, true);
  $("#note-body").value = "";
  await listNotes();
  show("create");
  $("#share-created").dataset.noteId = data.id;
  $("#share-created").hidden = false;
  showStatus(`Saved note ${data.id}`);
}

async function shareNote() {
  showStatus("Creating a share link…");
  const { data, error } = await supabase.functions.invoke("share-links", {
    method: "POST",
    body: { note_id: $("#share-created").dataset.noteId },
  });
  if (error) return showStatus(`Could not share the note: ${await describe(error)}`, true);
  const link = `${location.origin}/#share=${encodeURIComponent(data.token)}`;
  const out = $("#share-link-out");
  out.href = link;
  out.textContent = link;
  out.hidden = false;
  showStatus("Share link created");
}

// Anyone holding the link reads the one note it opens (the token goes in `x-share-token`).
async function openShared(token) {
  show("shared");
  showStatus("Opening the shared note…");
  const { data, error } = await supabase.functions.invoke("share-links/note", {
    method: "GET",
    headers: { "x-share-token": token },
  });
  if (error) return showStatus(`Could not open the share link: ${await describe(error)}`, true);
  $("#shared-note").textContent = data.body;
  showStatus("Shared note opened");
}

for (const button of document.querySelectorAll("nav button")) {
  button.addEventListener("click", () =>
    button.dataset.screen === "list" ? listNotes() : show(button.dataset.screen),
  );
}
$("#create-form").addEventListener("submit", createNote);
$("#share-created").addEventListener("click", shareNote);
$("#shared-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const link = new URL($("#share-link").value.trim(), location.href);
  openShared(new URLSearchParams(link.hash.slice(1)).get("share") ?? "");
});
if (params.get("workspace")) $("#note-workspace").value = params.get("workspace");

if (params.get("share")) {
  openShared(params.get("share"));
} else if (accessToken) {
  listNotes();
} else {
  showStatus("No session: open this page with #access_token=<ci/dev-token a>", true);
}
