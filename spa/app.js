// The demo SPA's screens: list the signed-in user's notes, create one, open a share link. Every
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
  showStatus(`Saved note ${data.id}`);
}

for (const button of document.querySelectorAll("nav button")) {
  button.addEventListener("click", () =>
    button.dataset.screen === "list" ? listNotes() : show(button.dataset.screen),
  );
}
$("#create-form").addEventListener("submit", createNote);
if (params.get("workspace")) $("#note-workspace").value = params.get("workspace");

if (accessToken) {
  listNotes();
} else {
  showStatus("No session: open this page with #access_token=<ci/dev-token a>", true);
}
