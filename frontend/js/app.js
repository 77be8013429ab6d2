/**
 * The page's entry point: checks the browser, then switches between the entrance
 * and a room visit. Everything protocol lives in core/; everything on screen in ui/.
 * @module app
 */

import { byId, setText } from "./ui/dom.js";
import { checkEnvironment } from "./ui/environment.js";
import { Composer } from "./ui/composer.js";
import { Entrance } from "./ui/entrance.js";
import { InvitePanel } from "./ui/invite.js";
import { foldPanelsOnNarrowScreens } from "./ui/layout.js";
import { MemberList } from "./ui/members.js";
import { MessageLog } from "./ui/messages.js";
import { SessionPreparer } from "./ui/prepare.js";
import { RoomVisit } from "./ui/room.js";
import { RoomStatus } from "./ui/status.js";
import { warmUpWhenIdle } from "./ui/warmup.js";

const app = byId("app");
const roomSection = byId("room");

/** @type {RoomVisit | null} */
let visit = null;

/** @param {string} state entrance | joining | connected | ready | locked | closed | unsupported */
function setState(state) {
  app.dataset.state = state;
}

const preparer = new SessionPreparer(app);
const entrance = new Entrance(
  (room, password) => void enter(room, password),
  (room, password) => preparer.changed(room, password),
);
const log = new MessageLog();
const members = new MemberList(async (id) => {
  if (!visit?.session) throw new Error("not in a room");
  return visit.session.fingerprint(id === visit.screen.me ? undefined : id);
});
const composer = new Composer(async (text) => (visit ? visit.sendText(text) : false));
const status = new RoomStatus(() => leave({ retry: true }));
const invite = new InvitePanel();
const refold = foldPanelsOnNarrowScreens([byId("members-panel"), byId("invite-panel")]);

/**
 * Enter a room.
 * @param {string} room
 * @param {string} password
 */
async function enter(room, password) {
  entrance.hide();
  refold();
  roomSection.hidden = false;
  status.setRoom(room);
  invite.open(room, password);
  visit = new RoomVisit({
    roomName: room,
    session: preparer.take(room, password),
    views: { log, members, composer, status },
    onState: setState,
  });
  try {
    await visit.start();
  } catch (error) {
    leave({ message: `Could not open the room: ${error.message}` });
  }
}

/**
 * Leave the room: drop the socket, wipe keys, messages and members, show the entrance.
 * @param {{retry?: boolean, message?: string}} [options]
 */
function leave({ retry = false, message = "" } = {}) {
  visit?.leave();
  visit = null;
  log.clear();
  members.clear();
  composer.clear();
  invite.clear();
  status.clear();
  roomSection.hidden = true;
  setState("entrance");
  if (retry) {
    entrance.open({ message: "Type the password again, carefully.", tone: "bad" });
  } else if (message) {
    entrance.open({ message, tone: "bad" });
  } else {
    entrance.open({ message: "You left the room. Its keys and messages are gone from this tab." });
  }
}

byId("leave-button").addEventListener("click", () => leave());

async function boot() {
  entrance.setEnabled(false);
  const problem = await checkEnvironment(globalThis);
  if (problem) {
    setText(byId("problem-title"), problem.title);
    setText(byId("problem-text"), problem.text);
    setText(byId("problem-hint"), problem.hint);
    byId("problem").hidden = false;
    setState("unsupported");
    return;
  }
  entrance.setEnabled(true);
  setState("entrance");
  warmUpWhenIdle(app);
}

void boot();
