import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { parse } from "yaml";
import { SLACK_EVENTS_PATH } from "../../../src/platforms/slack/slack-front-end.ts";

const manifest = parse(readFileSync("configs/slack-app-manifest.yaml", "utf8"));
const text = readFileSync("configs/slack-app-manifest.yaml", "utf8");

describe("Slack app manifest", () => {
  it("asks for exactly the scopes the front end uses", () => {
    // commands: /train; chat:write: chat.postMessage / postEphemeral / update;
    // files:write: files.getUploadURLExternal + completeUploadExternal; usergroups:read:
    // usergroups.users.list.
    expect(manifest.oauth_config.scopes.bot).toEqual([
      "commands",
      "chat:write",
      "files:write",
      "usergroups:read",
    ]);
    expect(manifest.oauth_config.scopes.user).toBeUndefined();
  });

  it("declares /train with a usage hint, buttons and Socket Mode", () => {
    const [command] = manifest.features.slash_commands;
    expect(command.command).toBe("/train");
    expect(command.usage_hint).toContain("status [run]");
    expect(command.usage_hint.length).toBeLessThanOrEqual(1000);
    expect(manifest.settings.interactivity.is_enabled).toBe(true);
    expect(manifest.settings.socket_mode_enabled).toBe(true);
    expect(manifest.features.bot_user.display_name).toBe("trainops");
  });

  it("shows HTTP mode's request URLs on the path the receiver listens on", () => {
    expect(text).toContain(`# url: https://trainops.example.com${SLACK_EVENTS_PATH}`);
    expect(text).toContain(`# request_url: https://trainops.example.com${SLACK_EVENTS_PATH}`);
  });
});
