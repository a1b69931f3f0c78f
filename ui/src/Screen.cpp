#include "qkiosk/ui/Screen.h"

namespace kiosk::ui {

Language languageOfLocale(const std::string& name, const std::vector<Language>& available) {
    // "en_US.UTF-8", "en", "pt_BR@euro": the letters before '_', '.' or '@'.
    const Language code = name.substr(0, name.find_first_of("_.@"));
    for (const auto& l : available)
        if (l == code) return l;
    return kJapanese;
}

Language nextLanguage(const State& s) {
    if (s.languages.empty()) return s.language;
    for (std::size_t i = 0; i < s.languages.size(); ++i)
        if (s.languages[i] == s.language) return s.languages[(i + 1) % s.languages.size()];
    return s.languages.front();
}

namespace {

// The keys of an officer screen: nearly as they are, reduceOfficer() gives
// them their meaning. While a request is out only the language key works, so
// nothing typed meanwhile lands in a field the officer no longer sees.
Intent officerIntentOf(const Key& key, const Officer& o) {
    if (key.kind == Key::Resize) return Intent::Redraw;
    if (key.kind == Key::F2) return Intent::SwitchLanguage;
    if (o.waiting) return Intent::None;
    switch (key.kind) {
        case Key::Char:
            if (!officerTyping(o) && (key.ch == U'l' || key.ch == U'L')) return Intent::SwitchLanguage;
            return Intent{Intent::Type, key.ch};
        case Key::Enter: return Intent::Submit;
        case Key::Esc: return Intent::Back;
        case Key::Backspace: return Intent::Erase;
        case Key::Tab: return Intent::NextField;
        case Key::Up: return Intent::Up;
        case Key::Down: return Intent::Down;
        case Key::PageUp: return Intent::PageUp;
        case Key::PageDown: return Intent::PageDown;
        default: return Intent::None;   // Ctrl-C, Ctrl-Z, Ctrl-\, F12 again, unknown keys
    }
}

}  // namespace

Intent intentOf(const Key& key, const State& state) {
    if (state.officer) return officerIntentOf(key, *state.officer);
    const bool finished = std::holds_alternative<Finished>(state.screen) || std::holds_alternative<Refused>(state.screen) ||
                          std::holds_alternative<NoVerdict>(state.screen);
    switch (key.kind) {
        case Key::Resize: return Intent::Redraw;
        case Key::F2: return Intent::SwitchLanguage;
        case Key::Enter: return finished ? Intent::Dismiss : Intent::None;
        case Key::F12:
            // Only from Ready: never over a scan or a verdict staff must see,
            // and not in the demo, which has no daemon to log in to.
            return std::holds_alternative<Ready>(state.screen) && !state.demo ? Intent::OpenOfficer : Intent::None;
        case Key::Char:
            if (key.ch == U'l' || key.ch == U'L') return Intent::SwitchLanguage;
            if ((key.ch == U'q' || key.ch == U'Q') && state.demo &&
                (finished || std::holds_alternative<Ready>(state.screen)))
                return Intent::Quit;
            return Intent::None;
        default: return Intent::None;
    }
}

State reduce(State s, Intent intent) {
    switch (intent.kind) {
        case Intent::SwitchLanguage:
            s.language = nextLanguage(s);
            break;
        case Intent::Dismiss: s.screen = s.idle; break;
        case Intent::Quit: s.quit = true; break;
        case Intent::OpenOfficer:
            if (!s.officer) {
                s.officer = Officer{};
                s.officer->session = ++s.officerSessions;
            }
            break;
        case Intent::None:
        case Intent::Redraw: break;
        default:
            if (s.officer) reduceOfficer(s, intent);
            break;
    }
    return s;
}

std::optional<double> estimateSecondsLeft(std::uint64_t done, std::uint64_t total, double elapsed) {
    if (elapsed < 1.0 || done == 0 || total < done) return std::nullopt;
    return elapsed * static_cast<double>(total - done) / static_cast<double>(done);
}

}  // namespace kiosk::ui
