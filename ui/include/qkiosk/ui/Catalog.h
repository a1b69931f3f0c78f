// The screens' words in gettext catalogues (ui/po/<lang>.po, compiled by
// msgfmt into <localedir>/<lang>/LC_MESSAGES/qkiosk.mo). The msgid is the
// English text, so a missing catalogue or entry shows English.
//
// The .mo files are read here rather than through glibc's dgettext. glibc
// 2.36 does translate under C.UTF-8 when LANGUAGE is set, but not when
// LC_MESSAGES is "C" — which is what a LANG=ja_JP.UTF-8 that is not
// installed leaves behind — and switching on a key press would mean changing
// LANGUAGE in our own environment and invalidating glibc's cache
// (_nl_msg_cat_cntr). Reading the catalogues ourselves makes the language a
// plain value of the screen state. A third language is a .po file in ui/po;
// no code changes.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "qkiosk/base/Result.h"
#include "qkiosk/ui/Screen.h"

namespace kiosk::ui {

// One compiled catalogue: msgid → msgstr.
class MessageCatalog {
public:
    MessageCatalog() = default;
    // Parses the bytes of a GNU .mo file (either byte order); any bound
    // that does not hold is an error naming `name`.
    static kiosk::Result<MessageCatalog> parse(const std::string& bytes, const std::string& name);
    static kiosk::Result<MessageCatalog> load(const std::string& path);

    // The translation, or nullptr when there is none (or it is empty).
    const std::string* find(const std::string& msgid) const;
    std::size_t size() const { return entries_.size(); }

private:
    std::map<std::string, std::string> entries_;
};

// The catalogues of every language the screens can show.
class Catalogs {
public:
    // Loads every `<localeDir>/<code>/LC_MESSAGES/qkiosk.mo`. No catalogue
    // at all is no error (the English msgids are shown); a damaged one is.
    static kiosk::Result<Catalogs> load(const std::string& localeDir);
    void add(const Language& lang, MessageCatalog catalog) { byLanguage_[lang] = std::move(catalog); }

    // `msgid` in the language, or msgid itself.
    const std::string& tr(const Language& lang, const std::string& msgid) const;
    bool has(const Language& lang) const;
    // Japanese and English first (English is there even without a
    // catalogue: it is the msgids), then the others by code.
    std::vector<Language> languages() const;
    // The language's name in itself: its catalogue's translation of "English"
    // ("日本語" in ja.po), which is what the language key shows.
    std::string nameOf(const Language& lang) const;

private:
    std::map<Language, MessageCatalog> byLanguage_;
};

// Where the catalogues are: $QKIOSK_LOCALEDIR, else `../share/locale` next
// to the running executable (the build tree and an install alike), else
// /usr/share/locale.
std::string defaultLocaleDir();

// "%s" in a translated text replaced by the arguments in order ("%%" is "%").
std::string format(const std::string& text, const std::vector<std::string>& args);

}  // namespace kiosk::ui
