// The window: top bar, banners, the limits strip, then the live panels on one screen (chat and
// its graph, the request queue; OBS and the recorder, the Kick chat, the co-host's drafts, the
// watch-along, the moments list). Settings open over it. At 1280×720 everything fits without
// scrolling; under 1100 px the panels stack.

import "./App.css";
import { ChatStrip } from "./ChatStrip";
import { CohostPanel } from "./CohostPanel";
import { DegradedBanner } from "./DegradedBanner";
import { StorageBanner } from "./StorageBanner";
import { Fatal } from "./Fatal";
import { LimitsStrip } from "./LimitsStrip";
import { MomentsPanel } from "./MomentsPanel";
import { Notices } from "./Notices";
import { ObsStatus } from "./ObsStatus";
import { QueuePanel } from "./QueuePanel";
import { RecorderStatus } from "./RecorderStatus";
import { SettingsView } from "./settings/SettingsView";
import { TopBar } from "./TopBar";
import { WatchPanel } from "./WatchPanel";
import { fatal } from "../store";

export function App() {
  if (fatal.value) return <Fatal />;
  return (
    <div class="app">
      <TopBar />
      <Notices />
      <StorageBanner />
      <DegradedBanner />
      <LimitsStrip />
      <main class="layout">
        <section class="col col-main" aria-label="Chat and requests">
          <ChatStrip slot="main" />
          <QueuePanel />
        </section>
        <section class="col col-side" aria-label="OBS, recorder, Kick, co-host, watch-along and moments">
          <div class="side-status">
            <ObsStatus />
            <RecorderStatus />
          </div>
          <ChatStrip slot="kick" />
          <CohostPanel />
          <WatchPanel />
          <MomentsPanel />
        </section>
      </main>
      <SettingsView />
    </div>
  );
}
