"""The web app in a real browser: chat with citations, teacher uploads, quizzes, the parent's view, every page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from evals.pdf_fixtures import handout_pdf
from tests.web.conftest import Person, WebServer, screenshot, sign_in

# Counts the distinct states of the answer while it streams: more than two means it arrived in pieces.
WATCH_STREAM = """() => {
  window.__answerStates = new Set();
  new MutationObserver(() => {
    const body = document.querySelector('article.msg-aria:last-of-type .msg-body');
    if (body && body.getAttribute('aria-busy') === 'true') window.__answerStates.add(body.textContent.length);
  }).observe(document.querySelector('#messages'), {subtree: true, childList: true, characterData: true});
}"""


def ask(page: Any, question: str) -> Any:
    """Type a question, send it with Enter, wait for the whole answer; the answer's article."""
    count = page.locator("article.msg-aria").count()
    page.get_by_label("Ta question").fill(question)
    page.get_by_label("Ta question").press("Enter")
    answer = page.locator("article.msg-aria").nth(count)
    answer.locator(".msg-body[aria-busy=false]").wait_for()
    return answer


def test_student_asks_sees_the_answer_stream_and_opens_a_citation(browser: Any, web_server: WebServer) -> None:
    student = web_server.person("student", "Léa")
    page = browser(width=1440, height=900)
    sign_in(page, student, "/eleve")
    page.get_by_role("link", name="ARIA", exact=True).click()
    page.wait_for_selector("body[data-ready=true]")
    page.evaluate(WATCH_STREAM)
    answer = ask(page, "C'est quoi une pile ?")

    assert page.evaluate("window.__answerStates.size") > 2  # tokens were painted as they came
    assert int(answer.locator(".msg-body").get_attribute("data-tokens")) > 2
    assert "pile" in answer.locator(".msg-body").inner_text().lower()
    assert answer.locator(".msg-body").get_attribute("aria-live") == "polite"
    chips = answer.locator(".msg-body button.cite")
    assert chips.count() >= 1
    assert answer.get_by_role("button", name="Explique autrement").is_visible()

    chips.first.click()
    panel = page.locator("#source-panel")
    panel.locator("mark").first.wait_for()
    assert panel.is_visible()
    assert "Piles" in page.locator("#source-title").inner_text() or "pile" in panel.inner_text().lower()
    assert page.evaluate("document.activeElement.id") == "source-title"
    assert panel.locator("mark").first.inner_text().strip()
    screenshot(page, "chat-citation.png")

    page.keyboard.press("Escape")
    assert panel.is_hidden()
    assert page.evaluate("document.activeElement.classList.contains('cite')")  # focus back on the chip

    follow = ask_follow_up(page, "Donne-moi un exemple")
    assert follow.locator(".msg-body").inner_text().strip()
    page.set_viewport_size({"width": 390, "height": 844})  # a phone: the panel covers the screen
    follow.locator("button.cite").first.click()
    page.locator("#source-panel mark").first.wait_for()
    screenshot(page, "chat-citation-phone.png")
    page.get_by_role("button", name="Fermer la source").click()
    page.get_by_role("button", name="Menu").click()
    assert page.get_by_role("link", name="Ma progression").is_visible()
    screenshot(page, "chat-phone-menu.png")
    assert page.locator("#session-list .session-item").count() == 1  # one conversation, two questions
    assert not page.errors, page.errors


def ask_follow_up(page: Any, label: str) -> Any:
    count = page.locator("article.msg-aria").count()
    page.locator("article.msg-aria").last.get_by_role("button", name=label).click()
    answer = page.locator("article.msg-aria").nth(count)
    answer.locator(".msg-body[aria-busy=false]").wait_for()
    return answer


def test_teacher_upload_becomes_ready_and_is_cited_only_in_its_class(
    browser: Any, web_server: WebServer, tmp_path: Path
) -> None:
    teacher = web_server.person("teacher", "Claire")
    mine = web_server.api("POST", "/api/classes", teacher, json={"name": "Terminale NSI A", "level": "terminale"})
    other = web_server.api("POST", "/api/classes", teacher, json={"name": "Terminale NSI B", "level": "terminale"})
    member, outsider = web_server.person("student", "Hugo"), web_server.person("student", "Inès")
    web_server.api("POST", "/api/classes/join", member, json={"joinCode": mine["joinCode"]})
    web_server.api("POST", "/api/classes/join", outsider, json={"joinCode": other["joinCode"]})
    pdf = tmp_path / "fiche-recursivite.pdf"
    pdf.write_bytes(handout_pdf()[0])
    empty = tmp_path / "vide.txt"
    empty.write_bytes(b"")

    page = browser(width=1280, height=1000)
    sign_in(page, teacher, "/enseignant/classes")
    page.get_by_role("link", name="Documents").click()
    page.wait_for_selector("body[data-ready=true]")
    page.get_by_label("Terminale NSI A").check()
    page.locator("#files").set_input_files([str(pdf), str(empty)])
    page.get_by_role("button", name="Envoyer").click()
    rows = page.locator("#upload-list li")
    ready = rows.filter(has_text="fiche-recursivite.pdf")
    ready.locator(".upload-status", has_text="Prêt").wait_for()
    failed = rows.filter(has_text="vide.txt")
    failed.locator(".upload-status", has_text="vide").wait_for()
    assert failed.get_attribute("data-state") == "failed"
    page.locator("#document-list tr", has_text="fiche-recursivite.pdf").get_by_text("Prêt").wait_for()
    screenshot(page, "teacher-upload.png", full_page=True)
    assert not page.errors, page.errors

    question = "Qu'est-ce que la mémoïsation d'une fonction récursive ?"
    seen = browser(width=1280, height=900)
    sign_in(seen, member, "/eleve")
    seen.goto("/aria")
    answer = ask(seen, question)
    cited = answer.locator(".sources li", has_text="page")
    assert cited.count() >= 1, answer.inner_text()
    cited.first.locator("button.cite").click()
    seen.locator("#source-panel mark").first.wait_for()
    assert "page" in seen.locator("#source-path").inner_text()

    unseen = browser(width=1280, height=900)
    sign_in(unseen, outsider, "/eleve")
    unseen.goto("/aria")
    other_answer = ask(unseen, question)
    assert other_answer.locator(".sources li", has_text="page").count() == 0
    assert "récursivité" not in other_answer.locator(".sources").all_inner_texts()
    assert not seen.errors, seen.errors
    assert not unseen.errors, unseen.errors


QUIZ = {
    "title": "Quiz sur les piles",
    "type": "quiz",
    "timeLimitMinutes": 10,
    "published": True,
    "questions": [
        {
            "type": "single_choice",
            "prompt": "Quelle structure suit le principe **LIFO** ?",
            "options": ["Une file", "Une pile", "Un tableau trié"],
            "answer": 1,
            "explanation": "Dernier entré, premier sorti : c'est une pile.",
        },
        {"type": "numeric", "prompt": "Combien vaut `len([3, 1, 4])` ?", "answer": 3},
        {
            "type": "short_text",
            "prompt": "Comment s'appelle l'opération qui retire le sommet d'une pile ?",
            "answer": ["dépiler", "depiler", "pop"],
            "explanation": "On **dépile** le sommet.",
        },
    ],
}


def test_a_quiz_is_taken_and_graded_and_the_dashboard_shows_it(browser: Any, web_server: WebServer) -> None:
    teacher = web_server.person("teacher")
    klass = web_server.api("POST", "/api/classes", teacher, json={"name": "1re NSI", "level": "premiere"})
    student = web_server.person("student", "Nora", level="premiere")
    web_server.api("POST", "/api/classes/join", student, json={"joinCode": klass["joinCode"]})
    quiz = web_server.api("POST", "/api/assessments", teacher, json={**QUIZ, "classId": klass["id"]})
    course = web_server.api("GET", "/api/courses/premiere-algorithmique", student)
    sections = [s["id"] for ch in course["content"]["chapters"] for s in ch["sections"]]
    for section in sections[:5]:
        body = {"courseId": "premiere-algorithmique", "sectionId": section, "completed": True}
        web_server.api("POST", "/api/progress", student, json=body)

    page = browser(width=1280, height=900)
    sign_in(page, student, "/eleve")
    page.get_by_role("link", name="Quiz", exact=True).click()
    page.get_by_role("link", name="Quiz sur les piles").click()
    page.get_by_role("button", name="Commencer").click()
    page.locator("#timer-box").wait_for()
    assert page.locator("#timer").inner_text().startswith(("09:", "10:"))
    page.get_by_label("Une pile").check()
    page.get_by_label("Ta réponse (un nombre)").fill("4")
    page.get_by_label("Ta réponse", exact=True).fill("Dépiler")
    page.get_by_role("button", name="Rendre mes réponses").click()
    result = page.locator("#result-title")
    result.wait_for()
    assert result.inner_text() == "Résultat : 2 / 3"
    items = page.locator(".result-item")
    assert items.nth(0).get_attribute("class") == "result-item ok"
    assert "Dernier entré, premier sorti" in items.nth(0).inner_text()
    assert "Réponse attendue : 3" in items.nth(1).inner_text()
    assert "Bonne réponse" in items.nth(2).inner_text()
    screenshot(page, "quiz-result.png", full_page=True)
    attempt = web_server.api("GET", f"/api/assessments/{quiz['id']}", student)["myAttempts"][0]
    assert attempt["score"] == 2

    page.get_by_role("link", name="Voir ma progression").click()
    page.wait_for_selector("body[data-ready=true]")
    page.locator("#progress-chart svg").wait_for()
    page.locator("#scores-chart svg").wait_for()
    assert "Quiz sur les piles : 2 / 3" in page.locator("#scores-chart").inner_text()
    assert "67 %" in page.locator("#stats").inner_text()
    screenshot(page, "student-dashboard.png")
    assert not page.errors, page.errors


def test_a_parent_registers_links_a_child_and_sees_their_progress(browser: Any, web_server: WebServer) -> None:
    student = web_server.person("student", "Tom")
    for section in ("terminale/structures-de-donnees/piles#cours", "terminale/structures-de-donnees/piles#exercices"):
        body = {"courseId": "terminale-structures-de-donnees", "sectionId": section, "completed": True}
        web_server.api("POST", "/api/progress", student, json=body)
    code = web_server.api("GET", "/api/users/me/parent-code", student)["parentCode"]

    page = browser(width=390, height=844)  # a phone
    page.goto("/inscription")
    page.get_by_label("parent").check()
    assert page.locator("#level-field").is_hidden()
    page.get_by_label("Prénom").fill("Sophie")
    page.get_by_label("Nom", exact=True).fill("Martin")
    page.get_by_label("Adresse email").fill("sophie.martin@exemple.fr")
    page.get_by_label("Mot de passe", exact=True).fill("motdepasse42")
    page.get_by_label("Confirme le mot de passe").fill("motdepasse42")
    page.get_by_role("button", name="Créer mon compte").click()
    page.wait_for_url("**/parent")
    page.wait_for_selector("body[data-ready=true]")  # the form's handler is attached: no native submit
    page.get_by_label("Code parent").fill(code)
    page.get_by_role("button", name="Ajouter").click()
    child = page.locator("section.child", has_text="Tom Martin")
    child.wait_for()
    screenshot(page, "parent-phone.png", full_page=True)
    assert "Section terminée" in child.inner_text()
    assert child.locator("svg title", has_text="par thème").count() == 1
    assert "Structures de données" in child.inner_text()
    assert not page.errors, page.errors


def test_answers_and_sources_cannot_inject_html(browser: Any, web_server: WebServer) -> None:
    student = web_server.person("student")
    page = browser()
    sign_in(page, student, "/eleve")
    page.goto("/aria")
    page.wait_for_selector("body[data-ready=true]")
    rendered = page.evaluate(
        """async () => {
      const m = await import('/static/js/markdown.js');
      window.__pwned = false;
      const evil = [
        '<img src=x onerror="window.__pwned=true">', '<script>window.__pwned=true</script>',
        '[clic](javascript:window.__pwned=true)', '<a href="#" onclick="window.__pwned=true">a</a>',
        '<iframe src="/"></iframe>', '<svg onload="window.__pwned=true"></svg>', '<b class="cite">faux</b> [1]',
        '```python\\nprint("<b>ok</b>")\\n```',
      ].join('\\n\\n');
      const sources = [{n: 1, doc_id: 'd', title: 'T', section_path: ['S'], page: null, snippet: ''}];
      const box = document.createElement('div');
      box.append(m.renderAnswer(evil, sources, () => {}));
      const marked = m.renderWithHighlight(evil, [0, 40]).fragment;
      const box2 = document.createElement('div');
      box2.append(marked);
      document.body.append(box, box2);
      await new Promise((r) => setTimeout(r, 300));
      const all = [...box.querySelectorAll('*'), ...box2.querySelectorAll('*')];
      return {
        html: box.innerHTML + box2.innerHTML,
        tags: [...new Set(all.map((el) => el.tagName.toLowerCase()))],
        handlers: all.flatMap((el) => [...el.attributes].map((a) => a.name)).filter((n) => n.startsWith('on')),
        hrefs: all.filter((el) => el.hasAttribute('href')).map((el) => el.getAttribute('href')),
        classes: all.filter((el) => el.className && !el.closest('pre')).map((el) => el.className),
        cites: box.querySelectorAll('button.cite').length,
        code: box.querySelector('pre code.hljs') !== null,
        marks: box2.querySelectorAll('mark').length,
        pwned: window.__pwned,
      };
    }"""
    )
    assert rendered["pwned"] is False
    assert not {"img", "script", "iframe", "svg", "style", "form"} & set(rendered["tags"]), rendered["tags"]
    assert rendered["handlers"] == []
    assert all(not h.lower().startswith("javascript") for h in rendered["hrefs"]), rendered["hrefs"]
    assert set(rendered["classes"]) <= {"cite"}, rendered["classes"]  # only our own chip, not the answer's
    assert "&lt;img" in rendered["html"]  # the markup is shown as text
    assert rendered["marks"] >= 1
    assert rendered["cites"] == 1  # only the real citation became a chip
    assert rendered["code"]
    assert not page.errors, page.errors


def test_every_page_loads_for_its_role_with_labelled_fields(browser: Any, web_server: WebServer) -> None:
    admin, teacher = web_server.person("admin"), web_server.person("teacher")
    klass = web_server.api("POST", "/api/classes", teacher, json={"name": "Tle C"})
    student, parent = web_server.person("student"), web_server.person("parent")
    web_server.api("POST", "/api/classes/join", student, json={"joinCode": klass["joinCode"]})
    closes = (datetime.now(UTC) + timedelta(days=3)).isoformat()
    web_server.api("POST", "/api/assessments", teacher, json={**QUIZ, "classId": klass["id"], "closesAt": closes})
    visits: list[tuple[Person, str, list[str]]] = [
        (student, "/eleve", ["/eleve", "/aria", "/cours", "/cours/terminale-structures-de-donnees", "/quiz"]),
        (teacher, "/enseignant/classes", ["/enseignant/classes", f"/enseignant/classes/{klass['id']}"]),
        (teacher, "/enseignant/classes", ["/enseignant/documents", "/cours"]),
        (parent, "/parent", ["/parent"]),
        (admin, "/admin/systeme", ["/admin/systeme", "/admin/utilisateurs"]),
    ]
    page = browser(width=1280, height=900)
    for person, home, paths in visits:
        sign_in(page, person, home)
        for path in paths:
            page.goto(path)
            page.wait_for_selector("body[data-ready=true]")
            assert page.url.endswith(path), (person.role, path, page.url)
            assert not page.locator(".form-error").count(), (path, page.locator(".form-error").all_inner_texts())
            unlabelled = page.evaluate(
                """() => [...document.querySelectorAll('input, select, textarea')]
                  .filter((el) => el.type !== 'hidden' && !el.closest('[hidden]'))
                  .filter((el) => !(el.labels && el.labels.length) && !el.getAttribute('aria-label'))
                  .map((el) => el.name || el.id)"""
            )
            assert not unlabelled, (path, unlabelled)
            screenshot(page, f"pages/{person.role}{path.replace('/', '-')[:60]}.png", full_page=True)
        page.get_by_role("button", name="Se déconnecter").click()
        page.wait_for_url("**/connexion")
    page.goto("/admin/systeme")  # signed out: back to the sign-in page
    page.wait_for_url("**/connexion?next=*")
    assert not page.errors, page.errors
