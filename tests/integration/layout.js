// What a person would see as broken in the laid-out page, as a list of sentences (empty: none).
// Run by tests/integration/test_layout.py through Playwright's page.evaluate.
() => {
    const problems = [];
    const width = window.innerWidth;

    const describe = (element) => {
        let name = element.tagName.toLowerCase();
        if (element.id) name += "#" + element.id;
        for (const cls of element.classList) name += "." + cls;
        const text = String(element.innerText ?? "").trim().replace(/\s+/g, " ");
        return text ? `${name} "${text.slice(0, 60)}"` : name;
    };
    // Hidden on purpose: the 1 px boxes of .visually-hidden and what they hold, the honeypot.
    const hiddenOnPurpose = (element) => {
        for (let node = element; node && node !== document.body; node = node.parentElement) {
            if (node.getAttribute("aria-hidden") === "true") return true;
            const box = node.getBoundingClientRect();
            if (box.width <= 1 && box.height <= 1 && getComputedStyle(node).overflow !== "visible") {
                return true;
            }
        }
        return false;
    };
    // What lies inside a box that scrolls sideways is reached by scrolling that box.
    const insideSidewaysScroller = (element) => {
        for (let node = element.parentElement; node && node !== document.body;
             node = node.parentElement) {
            if (["auto", "scroll"].includes(getComputedStyle(node).overflowX)) return true;
        }
        return false;
    };
    const clipped = (overflow) => overflow === "hidden" || overflow === "clip";

    // Nothing wider than the screen.
    const pageWidth = document.documentElement.scrollWidth;
    if (pageWidth > width) problems.push(`the page scrolls sideways: ${pageWidth} px wide`);

    for (const element of document.body.querySelectorAll("*")) {
        const box = element.getBoundingClientRect();
        if (box.width === 0 && box.height === 0) continue;  // not rendered
        const style = getComputedStyle(element);
        if (style.visibility === "hidden" || hiddenOnPurpose(element)) continue;
        const name = describe(element);
        if (box.right > width + 0.5 && !insideSidewaysScroller(element)) {
            problems.push(`${name} sticks out past the right edge, to ${Math.round(box.right)} px`);
        }
        // No text cut off: content larger than its box, where the box hides what overflows.
        const wide = element.scrollWidth > element.clientWidth + 1;
        const tall = element.scrollHeight > element.clientHeight + 1;
        const sizes = `${element.scrollWidth}×${element.scrollHeight} px of content`
            + ` in ${element.clientWidth}×${element.clientHeight} px`;
        if ((wide && clipped(style.overflowX)) || (tall && clipped(style.overflowY))) {
            const how = style.textOverflow === "ellipsis" ? ", ending in an ellipsis" : "";
            problems.push(`${name} is cut off${how}: ${sizes}`);
        } else if (wide && element.matches("button, input, select, textarea, .button")) {
            problems.push(`${name}: its label does not fit: ${sizes}`);
        }
    }

    // Headings: hyphenated in the page's language, and no word broken between two lines
    // without a hyphen. A break shows in the characters' own boxes: two letters of one word on
    // different lines, with no soft hyphen (drawn as a hyphen at a line's end) between them.
    const letter = /[\p{L}\p{N}]/u;
    const range = document.createRange();
    for (const heading of document.querySelectorAll("h1, h2, h3, h4, h5, h6")) {
        const box = heading.getBoundingClientRect();
        if (box.width === 0 && box.height === 0) continue;
        const style = getComputedStyle(heading);
        const text = heading.textContent.trim().replace(/\s+/g, " ").replaceAll("\u00ad", "");
        const label = `<${heading.tagName.toLowerCase()}> "${text}"`;
        if (style.hyphens !== "auto") problems.push(`${label} has hyphens: ${style.hyphens}`);
        const lang = heading.closest("[lang]")?.lang;
        if (lang !== document.documentElement.lang) problems.push(`${label} is in lang ${lang}`);

        let previousTop = null;  // of the last letter, while in a word
        let softHyphen = false;
        let word = "";
        const walker = document.createTreeWalker(heading, NodeFilter.SHOW_TEXT);
        for (let node = walker.nextNode(); node; node = walker.nextNode()) {
            for (let index = 0; index < node.data.length; index++) {
                const character = node.data[index];
                if (character === "\u00ad") {
                    softHyphen = true;
                    continue;
                }
                if (!letter.test(character)) {
                    previousTop = null;
                    word = "";
                    continue;
                }
                range.setStart(node, index);
                range.setEnd(node, index + 1);
                // A letter that starts a line may also get an empty box at the end of the
                // line before: its own box is the last one with a width.
                const rect = [...range.getClientRects()].filter((r) => r.width > 0).pop();
                if (!rect) continue;
                if (previousTop !== null && rect.top > previousTop + rect.height / 2 && !softHyphen) {
                    problems.push(`${label} breaks a word without a hyphen: "${word} / ${character}…"`);
                }
                previousTop = rect.top;
                softHyphen = false;
                word += character;
            }
        }
    }
    return problems;
}
