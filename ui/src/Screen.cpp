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

Intent intentOf(const Key& key, const State& state) {
    const bool finished = std::holds_alternative<Result>(state.screen) || std::holds_alternative<Refused>(state.screen) ||
                          std::holds_alternative<Error>(state.screen);
    switch (key.kind) {
        case Key::Resize: return Intent::Redraw;
        case Key::F2: return Intent::SwitchLanguage;
        case Key::Enter: return finished ? Intent::Dismiss : Intent::None;
        case Key::Char:
            if (key.ch == U'l' || key.ch == U'L') return Intent::SwitchLanguage;
            if ((key.ch == U'q' || key.ch == U'Q') && state.demo &&
                (finished || std::holds_alternative<Ready>(state.screen)))
                return Intent::Quit;
            return Intent::None;
        case Key::Other: return Intent::None;
    }
    return Intent::None;
}

State reduce(State s, Intent intent) {
    switch (intent) {
        case Intent::SwitchLanguage:
            s.language = nextLanguage(s);
            break;
        case Intent::Dismiss: s.screen = s.idle; break;
        case Intent::Quit: s.quit = true; break;
        case Intent::None:
        case Intent::Redraw: break;
    }
    return s;
}

std::optional<double> estimateSecondsLeft(std::uint64_t done, std::uint64_t total, double elapsed) {
    if (elapsed < 1.0 || done == 0 || total < done) return std::nullopt;
    return elapsed * static_cast<double>(total - done) / static_cast<double>(done);
}

}  // namespace kiosk::ui
