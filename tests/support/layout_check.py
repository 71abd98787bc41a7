"""What a person would see wrong on a page, measured in the browser: text squeezed into a sliver, a page
that scrolls sideways, text boxes lying on top of each other, boxes sticking out of the box drawn around
them, table cells out of reach, and (watched
while the page loads) sub-resources that fail and console errors. Used by tests/test_layout.py."""
from __future__ import annotations

from dataclasses import dataclass, field

# Runs in the page; returns a list of findings, each a sentence naming the element.
MEASURE = r"""() => {
  const found = [];
  const viewport = document.documentElement.clientWidth;
  const name = (el) => {
    const text = (el.innerText || el.textContent || "").trim().replace(/\s+/g, " ").slice(0, 40);
    return `<${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}${el.className && typeof el.className === "string"
      ? "." + el.className.trim().split(/\s+/).join(".") : ""}> "${text}"`;
  };
  // Visually hidden text (a 1-px box that clips what it holds) is for screen readers: not looked at.
  const clipped = [...document.body.querySelectorAll("*")].filter((el) => {
    const box = el.getBoundingClientRect();
    return getComputedStyle(el).overflow !== "visible" && (box.width <= 1 || box.height <= 1);
  });
  const shown = (el) => {
    const style = getComputedStyle(el);
    if (style.visibility !== "visible" || style.display === "none" || Number(style.opacity) === 0) return false;
    const box = el.getBoundingClientRect();
    return box.width > 1 && box.height > 1 && !clipped.some((hider) => hider.contains(el));
  };
  const ownText = (el) => [...el.childNodes].some((n) => n.nodeType === Node.TEXT_NODE && n.textContent.trim());
  const canvas = document.createElement("canvas").getContext("2d");
  const all = [...document.body.querySelectorAll("*")].filter((el) => !["SCRIPT", "STYLE", "OPTION", "DATALIST",
    "svg", "text", "BR", "TEMPLATE"].includes(el.tagName) && shown(el));

  // The page scrolls sideways.
  const scrollWidth = document.documentElement.scrollWidth;
  if (scrollWidth > viewport + 1) {
    // The culprits: boxes past the window's edge, or whose text runs out of them, innermost first.
    const past = (el) => el.getBoundingClientRect().right > viewport + 1
      || (getComputedStyle(el).overflowX === "visible" && el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0);
    const wide = all.filter((el) => past(el) && ![...el.children].some((child) => all.includes(child) && past(child)))
      .slice(0, 3).map(name);
    found.push(`the page scrolls sideways: ${scrollWidth} px wide in a ${viewport} px window (${wide.join(", ")})`);
  }

  // Text squeezed: narrower than three characters of its own font while taller than four lines.
  for (const el of all.filter(ownText)) {
    const style = getComputedStyle(el);
    canvas.font = `${style.fontStyle} ${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
    const three = canvas.measureText("000").width;
    const fontSize = parseFloat(style.fontSize);
    const line = style.lineHeight === "normal" ? 1.2 * fontSize : parseFloat(style.lineHeight);
    const box = el.getBoundingClientRect();
    if (box.width < three && box.height > 4 * line) {
      found.push(`squeezed: ${name(el)} is ${Math.round(box.width)} px wide and ${Math.round(box.height)} px tall`);
    }
  }

  // Sibling boxes holding text that lie on top of each other.
  const holdsText = (el) => (el.innerText || "").trim() !== "" && getComputedStyle(el).position !== "absolute"
    && getComputedStyle(el).position !== "fixed";
  for (const parent of new Set(all.map((el) => el.parentElement))) {
    if (!parent) continue;
    const children = [...parent.children].filter((el) => all.includes(el) && holdsText(el));
    // Line by line: the boxes of inline elements that wrap enclose each other without touching.
    const lines = children.map((el) => [...el.getClientRects()]);
    for (let i = 0; i < children.length; i++) {
      for (let j = i + 1; j < children.length; j++) {
        const hit = lines[i].some((a) => lines[j].some((b) =>
          Math.min(a.right, b.right) - Math.max(a.left, b.left) > 2 && Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 2));
        if (hit) found.push(`overlap: ${name(children[i])} and ${name(children[j])}`);
      }
    }
  }

  // Something sticking out of the nearest box drawn around it (a border or a background of its own).
  const drawn = (el) => {
    const style = getComputedStyle(el);
    return el !== document.body && (parseFloat(style.borderRightWidth) > 0 || style.backgroundColor !== "rgba(0, 0, 0, 0)");
  };
  for (const el of all) {
    let box = el.parentElement;
    while (box && box !== document.body && !drawn(box)) box = box.parentElement;
    if (!box || box === document.body || getComputedStyle(box).overflowX !== "visible") continue;
    const outer = box.getBoundingClientRect(), inner = el.getBoundingClientRect();
    if (inner.right > outer.right + 2 || inner.left < outer.left - 2) {
      found.push(`sticks out: ${name(el)} reaches ${Math.round(inner.left)}–${Math.round(inner.right)} px, out of ${name(box)} (${Math.round(outer.left)}–${Math.round(outer.right)} px)`);
    }
  }

  // A table cell out of the window, unless it sits in a box that scrolls sideways, is itself in the
  // window and shows a scroll bar that takes room. An overlay bar (a phone's, or headless Chromium's, which
  // hides them) shows nothing until touched: a person does not know there is more.
  const scrollsSideways = (el) => {
    const style = getComputedStyle(el);
    const bar = el.offsetHeight - el.clientHeight - parseFloat(style.borderTopWidth) - parseFloat(style.borderBottomWidth);
    return ["auto", "scroll"].includes(style.overflowX) && el.scrollWidth > el.clientWidth && bar > 0;
  };
  for (const cell of all.filter((el) => el.tagName === "TD" || el.tagName === "TH")) {
    const box = cell.getBoundingClientRect();
    if (box.left >= -1 && box.right <= viewport + 1) continue;
    let reachable = false;
    for (let up = cell.parentElement; up && up !== document.body; up = up.parentElement) {
      if (scrollsSideways(up)) {
        const frame = up.getBoundingClientRect();
        reachable = frame.left >= -1 && frame.right <= viewport + 1;
        break;
      }
    }
    if (!reachable) found.push(`cut off: table cell ${name(cell)} lies at ${Math.round(box.left)}–${Math.round(box.right)} px in a ${viewport} px window`);
  }
  return found;
}"""


@dataclass
class LayoutWatch:
    """Listens to one tab: failed sub-resources and console errors since the last ``problems()``."""

    page: object
    heard: list[str] = field(default_factory=list)
    answers: set[str] = field(default_factory=set)  # addresses of pages and of forms sent by script

    def __post_init__(self):
        self.page.on("response", self._response)
        self.page.on("console", self._console)
        self.page.on("pageerror", lambda error: self.heard.append(f"script error: {error}"))
        self.page.on("requestfailed", self._failed)

    def _response(self, response):
        # The page itself may rightly answer 4xx (a form error is 422, a page not found 404), and so may a
        # form the page sends by script (the batch upload): only what the page asks for to show itself counts.
        request = response.request
        if request.resource_type == "document" or request.method == "POST":
            self.answers.add(response.url)
        elif response.status >= 400:
            self.heard.append(f"{response.status} for {request.resource_type} {response.url}")

    def _console(self, message):
        if message.type != "error":
            return
        if message.text.startswith("Failed to load resource") and message.location.get("url") in self.answers:
            return  # Chromium's own note about a page's (or a form's) status, judged in _response
        self.heard.append(f"console error: {message.text}")

    def _failed(self, request):
        if request.failure != "net::ERR_ABORTED":  # aborted: a request the page left behind when it moved on
            self.heard.append(f"no answer ({request.failure}) for {request.resource_type} {request.url}")

    def forget(self) -> None:
        self.heard.clear()

    def problems(self) -> list[str]:
        """Everything wrong with the page as it is now, and whatever was heard while it loaded."""
        self.page.wait_for_load_state("load")
        found = self.heard + self.page.evaluate(MEASURE)
        self.heard = []
        return found
