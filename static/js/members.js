// The member list: "select all on this page" ticks the rows of the current page (after every swap).
document.addEventListener("change", (event) => {
  const all = event.target.closest("[data-member-all]");
  if (!all) return;
  document.querySelectorAll("#member-bulk input[name=ids]").forEach((box) => { box.checked = all.checked; });
});
// The group form: a fixed list has no conditions to show.
function syncGroupKind() {
  const checked = document.querySelector("#group-form input[name=kind]:checked");
  const conditions = document.getElementById("group-conditions");
  if (checked && conditions) conditions.hidden = checked.value === "fixed";
}
document.addEventListener("change", (event) => { if (event.target.name === "kind") syncGroupKind(); });
document.addEventListener("DOMContentLoaded", syncGroupKind);
