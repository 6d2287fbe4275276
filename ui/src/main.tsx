// Entry point: the theme, then the App component, then the store (events, then a snapshot).
import "./locale";
import "./styles/base.css";
import { render } from "preact";
import { App } from "./components/App";
import { startStore } from "./store";
import { initTheme } from "./theme";

initTheme();
render(<App />, document.getElementById("app")!);
void startStore();
