"""Sound in a live studio: a creator gives a shot a spoken line, previews the
sound, renders the cut with music and a visitor hears it on the share page;
a token script asks for a clip with sound and downloads it with its audio."""

from __future__ import annotations

import io

import av
import pytest

from tests.browser.conftest import (
    RENDERING,
    save_artifacts,
    sign_up_with_a_project,
    wait_until,
)
from tests.browser.test_token_script import Client, new_token

pytestmark = [pytest.mark.browser]

FPS = 8


def streams(data: bytes) -> tuple[float, float, str]:
    """(video seconds, audio seconds, audio codec) of an MP4's bytes."""
    with av.open(io.BytesIO(data)) as container:
        video = container.streams.video[0]
        seconds = sum(1 for _ in container.decode(video)) / float(video.average_rate)
    with av.open(io.BytesIO(data)) as container:
        assert container.streams.audio, "the video has no audio stream"
        audio = container.streams.audio[0]
        samples = sum(f.samples for f in container.decode(audio))
        return seconds, samples / audio.rate, audio.codec_context.name


def add_shot(page, prompt: str) -> None:
    count = page.locator(".shot[data-shot]").count()
    if not page.is_visible("#id_prompt"):
        page.click("text=Add a shot")
    page.fill("#id_prompt", prompt)
    page.fill("#id_duration", "1")
    page.click("button:text('Add shot')")
    page.wait_for_selector(f".shot[data-shot] >> nth={count}")


def test_a_spoken_line_and_music_play_on_the_share_page(live_studio, browser, tmp_path):
    owner = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = owner.new_page()
    try:
        sign_up_with_a_project(page, live_studio, "sonia", "Voices")
        # The prompt box's Sound panel, as a creator first sees it.
        page.click("#composer .sound-panel > summary")
        page.fill("#id_prompt", "a calm sunset over the sea, slow push-in")
        page.wait_for_selector("[data-testid=mood-line]:has-text('·')")
        panel = page.locator("#composer .sound-panel")
        assert panel.get_by_label("Mood").input_value() == ""  # from the prompt
        panel.screenshot(path=tmp_path / "sound-prompt-box.png")

        page.click("text=Storyboards")
        page.fill("#id_title", "The shore")
        page.click("text=Create storyboard")
        page.wait_for_selector("#script")
        page.wait_for_load_state("load")
        page.click("text=Look, model and render")
        page.fill("#id_fps", str(FPS))
        page.fill("#id_width", "64")
        page.fill("#id_height", "64")
        page.fill("#id_steps", "2")
        page.click("text=Save settings")
        page.wait_for_selector("text=Storyboard settings saved.")

        add_shot(page, "a calm sea at sunset")
        add_shot(page, "a red ball bouncing on the sand")
        second = page.locator(".shot[data-shot] >> nth=1")
        # The line saves as the field changes, like the rest of the shot.
        line = second.locator("input[name=voice_line]")
        line.fill("The tide is turning.")
        with page.expect_response(lambda r: "/shots/" in r.url and r.status == 200):
            line.dispatch_event("change")
        page.wait_for_selector(
            ".shot[data-shot] >> nth=1 >> input[name=voice_line][value='The tide is turning.']"
        )

        # Sound on, with music in a chosen mood; Preview plays in the page.
        page.check("[data-testid=sound-form] input[name=sound]")
        page.check("[data-testid=sound-form] input[name=sound_music]")
        page.check("[data-testid=sound-form] input[name=sound_voice]")
        page.select_option("[data-testid=sound-form] select[name=sound_mood]", "calm")
        page.click("[data-testid=sound-form] [data-testid=sound-preview]")
        wait_until(
            page,
            "(() => { const a = document.querySelector("
            "'[data-testid=sound-form] [data-role=sound-player]');"
            " return a && !a.hidden && a.src.includes('/sound/preview/')"
            " && a.readyState >= 1; })()",
        )
        page.screenshot(path=tmp_path / "sound-storyboard.png", full_page=True)
        page.click("[data-testid=sound-form] [data-testid=sound-save]")
        page.wait_for_selector("text=Sound on for the next render.")

        page.click("text=Generate all missing shots")
        wait_until(
            page,
            "document.querySelectorAll('.take[data-take]').length === 2",
            timeout=RENDERING,
        )
        page.click("text=Render sequence")
        page.wait_for_selector("[data-testid=render] video", timeout=RENDERING)

        page.click("[data-testid=create-share]")
        share_url = page.inner_text("[data-testid=share-url]").strip()
    except Exception:
        save_artifacts(page, "sound-owner")
        raise

    visitor = browser.new_context(viewport={"width": 800, "height": 900})
    watch = visitor.new_page()
    try:
        watch.goto(share_url)
        video = watch.wait_for_selector("video.shared-video")
        assert video.get_attribute("muted") is None
        # A click is the visitor's gesture that lets sound play.
        watch.click("h1")
        video.evaluate("v => v.play()")
        wait_until(
            watch,
            "document.querySelector('video.shared-video').webkitAudioDecodedByteCount > 0",
        )
        watch.screenshot(path=tmp_path / "sound-share.png")
        src = video.get_attribute("src")
        data = watch.request.get(f"{live_studio}{src}").body()
        seconds, audio, codec = streams(data)
        assert codec == "aac"
        assert seconds == pytest.approx(2.0)
        assert abs(audio - seconds) <= 1 / FPS
        captions = watch.request.get(
            f"{live_studio}{src.removesuffix('.mp4')}.vtt"
        ).text()
        assert "The tide is turning." in captions
    except Exception:
        save_artifacts(watch, "sound-share")
        raise
    finally:
        visitor.close()
        owner.close()


def test_a_token_script_sets_sound_and_downloads_the_mp4_with_audio(
    live_studio, live_studio_env
):
    script = Client(live_studio, new_token(live_studio_env, "sounder"))
    clip = {"prompt": "a red ball bouncing to the right", "num_frames": 16,
            "width": 64, "height": 64, "steps": 2, "seed": 3,
            "sound": {"music": {"mood": "joyful"}, "volumes": {"effects": 1.5}}}  # fmt: skip
    status, bad = script.api(
        "POST", "/api/generations", {**clip, "sound": {"music": "maybe"}}
    )
    assert status == 400 and "true or false" in bad["errors"]["sound"][0]
    status, queued = script.api("POST", "/api/generations", clip)
    assert status == 201, queued
    assert queued["settings"]["sound"]["music"] == {"mood": "joyful"}
    events, _ = script.follow(queued["ws_url"])
    assert events[-1]["type"] == "succeeded", events
    status, done = script.api("GET", f"/api/generations/{queued['id']}")
    status, headers, video = script.download(done["video_url"])
    assert status == 200 and headers["Content-Type"] == "video/mp4"
    seconds, audio, codec = streams(video)
    assert codec == "aac"
    assert seconds == pytest.approx(16 / 8)
    assert abs(audio - seconds) <= 1 / 8
