// One drawing of a ticket (class Picture) on three cairo surfaces: PDF, PNG,
// and an image that becomes ESC/POS raster bytes. See kiosk/ticket/TicketRender.h.
#include "kiosk/ticket/TicketRender.h"

#include <cairo-pdf.h>
#include <cairo.h>
#include <glib-object.h>
#include <glib.h>
#include <pango/pangocairo.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>

#include "kiosk/ticket/QrCode.h"

namespace kiosk::ticket {

namespace {

struct SurfaceFree {
    void operator()(cairo_surface_t* s) const { cairo_surface_destroy(s); }
};
struct CairoFree {
    void operator()(cairo_t* c) const { cairo_destroy(c); }
};
struct ObjectUnref {
    void operator()(gpointer o) const { g_object_unref(o); }
};
struct FontFree {
    void operator()(PangoFontDescription* d) const { pango_font_description_free(d); }
};
using SurfacePtr = std::unique_ptr<cairo_surface_t, SurfaceFree>;
using CairoPtr = std::unique_ptr<cairo_t, CairoFree>;
using LayoutPtr = std::unique_ptr<PangoLayout, ObjectUnref>;
using FontPtr = std::unique_ptr<PangoFontDescription, FontFree>;

// IPA fonts are what the kiosk image installs (fonts-ipafont-gothic); any
// other Japanese font, or whatever fontconfig has, is the fallback.
constexpr const char* kFontFamilies = "IPAPGothic,IPAGothic,Noto Sans CJK JP,sans-serif";
// A QR module is at most 1 mm on paper: larger ones only waste it.
constexpr int kMaxDotsPerModule = 8;

int toPango(double v) { return static_cast<int>(std::lround(v * PANGO_SCALE)); }

FontPtr font(double sizeDots, bool bold) {
    FontPtr f(pango_font_description_from_string(kFontFamilies));
    pango_font_description_set_absolute_size(f.get(), sizeDots * PANGO_SCALE);
    pango_font_description_set_weight(f.get(), bold ? PANGO_WEIGHT_BOLD : PANGO_WEIGHT_NORMAL);
    return f;
}

// A layout's vertical extent in dots, ink and logical boxes together, so that
// nothing that is drawn (accents, descenders) falls outside the space kept for it.
struct Extent {
    double top = 0, height = 0;
};

Extent extentOf(PangoLayout* layout) {
    PangoRectangle ink{}, logical{};
    pango_layout_get_extents(layout, &ink, &logical);
    const double top = std::min(ink.y, logical.y);
    const double bottom = std::max(ink.y + ink.height, logical.y + logical.height);
    return {top / PANGO_SCALE, (bottom - top) / PANGO_SCALE};
}

Status checkText(const std::string& text, const std::string& what) {
    if (!g_utf8_validate(text.data(), static_cast<gssize>(text.size()), nullptr))
        return makeError("ticket " + what + ": not valid UTF-8");
    return {};
}

// The picture, laid out for a context whose user unit is one printer dot.
class Picture {
public:
    static Result<Picture> layOut(cairo_t* cr, const Layout& layout, int width);

    int width() const { return width_; }
    int height() const { return height_; }
    void draw(cairo_t* cr) const;

private:
    int width_ = 0, height_ = 0;
    bool pass_ = false;
    double margin_ = 0, pad_ = 0, frame_ = 0;
    LayoutPtr headline_, body_;
    Extent headlineExtent_, bodyExtent_;
    double bandTop_ = 0, bandHeight_ = 0, bodyTop_ = 0;
    QrCode qr_;
    int module_ = 0, qrLeft_ = 0, qrTop_ = 0;
};

Result<Picture> Picture::layOut(cairo_t* cr, const Layout& layout, int width) {
    if (auto s = checkText(layout.headline, "headline"); !s) return s.error();
    for (std::size_t i = 0; i < layout.lines.size(); ++i)
        if (auto s = checkText(layout.lines[i], "line " + std::to_string(i + 1)); !s) return s.error();

    auto qr = encodeQr(layout.qrPayload);
    if (!qr) return qr.error().context("ticket");

    // Without any font, pango would lay text out with nonsense metrics (a
    // picture kilometres long): say what is missing instead.
    {
        std::unique_ptr<PangoContext, ObjectUnref> context(pango_cairo_create_context(cr));
        PangoFont* any = pango_context_load_font(context.get(), font(20, false).get());
        if (!any)
            return makeError("ticket: no font to draw the text with: fontconfig finds none "
                             "(install fonts-ipafont-gothic)");
        g_object_unref(any);
    }

    Picture p;
    p.width_ = width;
    p.pass_ = layout.pass;
    const double w = width;
    p.margin_ = std::round(w * 0.03);
    p.pad_ = std::round(w * 0.03);
    p.frame_ = std::max(3.0, std::round(w * 0.012));
    const double gap = std::round(w * 0.035);

    // The QR code first: whether it fits decides whether there is a picture at all.
    const int modules = qr->size + 2 * kQrQuietZone;
    p.module_ = std::min(kMaxDotsPerModule, width / modules);
    if (p.module_ < kMinDotsPerModule)
        return makeError("ticket: the QR code of " + std::to_string(layout.qrPayload.size()) + " bytes needs " +
                         std::to_string(modules * kMinDotsPerModule) + " dots across (" +
                         std::to_string(kMinDotsPerModule) + " per module); the picture is " +
                         std::to_string(width) + " dots wide");

    // Headline: as large as fits on one line, down to a floor; below it, it wraps.
    std::string headline = layout.headline;
    if (headline.empty()) headline = layout.pass ? "PASS  合格" : "FAIL  不合格";
    const double headlineWidth = w - 2 * p.margin_ - 2 * p.pad_ - 2 * p.frame_;
    p.headline_.reset(pango_cairo_create_layout(cr));
    pango_layout_set_text(p.headline_.get(), headline.c_str(), static_cast<int>(headline.size()));
    double size = std::round(w * 0.16);
    const double minSize = std::round(w * 0.06);
    pango_layout_set_font_description(p.headline_.get(), font(size, true).get());
    PangoRectangle ink{}, logical{};
    pango_layout_get_pixel_extents(p.headline_.get(), &ink, &logical);
    const double naturalWidth = std::max(logical.x + logical.width, ink.x + ink.width) - std::min(logical.x, ink.x);
    if (naturalWidth > headlineWidth) {
        size = std::max(minSize, std::floor(size * headlineWidth / naturalWidth * 0.97));
        pango_layout_set_font_description(p.headline_.get(), font(size, true).get());
    }
    pango_layout_set_width(p.headline_.get(), toPango(headlineWidth));
    pango_layout_set_wrap(p.headline_.get(), PANGO_WRAP_WORD_CHAR);
    pango_layout_set_alignment(p.headline_.get(), PANGO_ALIGN_CENTER);
    p.headlineExtent_ = extentOf(p.headline_.get());

    double y = p.margin_;
    p.bandTop_ = y;
    p.bandHeight_ = p.headlineExtent_.height + 2 * p.pad_ + 2 * p.frame_;
    y += p.bandHeight_ + gap;

    // Body: one paragraph per line, wrapped at words where it can and anywhere
    // where it must (ticket ids, paths); continuations hang under the first line.
    if (!layout.lines.empty()) {
        std::string text;
        for (std::size_t i = 0; i < layout.lines.size(); ++i) {
            if (i) text.push_back('\n');
            text.append(layout.lines[i]);
        }
        const double bodySize = std::max(12.0, std::round(w * 0.042));
        p.body_.reset(pango_cairo_create_layout(cr));
        pango_layout_set_font_description(p.body_.get(), font(bodySize, false).get());
        pango_layout_set_width(p.body_.get(), toPango(w - 2 * p.margin_));
        pango_layout_set_wrap(p.body_.get(), PANGO_WRAP_WORD_CHAR);
        pango_layout_set_indent(p.body_.get(), -toPango(bodySize * 1.5));
        pango_layout_set_spacing(p.body_.get(), toPango(bodySize * 0.2));
        pango_layout_set_text(p.body_.get(), text.c_str(), static_cast<int>(text.size()));
        p.bodyExtent_ = extentOf(p.body_.get());
        p.bodyTop_ = y;
        y += p.bodyExtent_.height + gap;
    }

    const int qrDots = modules * p.module_;
    p.qrLeft_ = (width - qrDots) / 2;
    p.qrTop_ = static_cast<int>(std::ceil(y));
    const double bottom = p.qrTop_ + qrDots + p.margin_;
    if (bottom > kMaxPictureDots)
        return makeError("ticket: " + std::to_string(layout.lines.size()) + " lines make a picture " +
                         std::to_string(static_cast<long>(bottom)) + " dots long, more than the " +
                         std::to_string(kMaxPictureDots) + " one picture may have");
    p.height_ = static_cast<int>(std::ceil(bottom));
    p.qr_ = std::move(*qr);
    return p;
}

void Picture::draw(cairo_t* cr) const {
    cairo_save(cr);
    cairo_rectangle(cr, 0, 0, width_, height_);
    cairo_set_source_rgb(cr, 1, 1, 1);
    cairo_fill(cr);

    // Headline band: PASS framed, FAIL inverted, so that the two differ at a
    // glance also on a black-and-white receipt.
    const double bandWidth = width_ - 2 * margin_;
    cairo_set_source_rgb(cr, 0, 0, 0);
    if (pass_) {
        cairo_set_line_width(cr, frame_);
        cairo_rectangle(cr, margin_ + frame_ / 2, bandTop_ + frame_ / 2, bandWidth - frame_, bandHeight_ - frame_);
        cairo_stroke(cr);
    } else {
        cairo_rectangle(cr, margin_, bandTop_, bandWidth, bandHeight_);
        cairo_fill(cr);
        cairo_set_source_rgb(cr, 1, 1, 1);
    }
    pango_cairo_update_layout(cr, headline_.get());
    cairo_move_to(cr, margin_ + pad_ + frame_, bandTop_ + pad_ + frame_ - headlineExtent_.top);
    pango_cairo_show_layout(cr, headline_.get());

    if (body_) {
        cairo_set_source_rgb(cr, 0, 0, 0);
        pango_cairo_update_layout(cr, body_.get());
        cairo_move_to(cr, margin_, bodyTop_ - bodyExtent_.top);
        pango_cairo_show_layout(cr, body_.get());
    }

    // QR code: runs of dark modules as filled rectangles on whole dots, no
    // anti-aliasing, so that edges stay sharp on every surface.
    cairo_set_antialias(cr, CAIRO_ANTIALIAS_NONE);
    cairo_set_source_rgb(cr, 0, 0, 0);
    const int origin = kQrQuietZone * module_;
    for (int row = 0; row < qr_.size; ++row) {
        for (int col = 0; col < qr_.size;) {
            if (!qr_.at(col, row)) {
                ++col;
                continue;
            }
            int end = col;
            while (end < qr_.size && qr_.at(end, row)) ++end;
            cairo_rectangle(cr, qrLeft_ + origin + col * module_, qrTop_ + origin + row * module_,
                            (end - col) * module_, module_);
            col = end;
        }
    }
    cairo_fill(cr);
    cairo_restore(cr);
}

cairo_status_t appendTo(void* closure, const unsigned char* data, unsigned int length) {
    static_cast<std::string*>(closure)->append(reinterpret_cast<const char*>(data), length);
    return CAIRO_STATUS_SUCCESS;
}

Status cairoStatus(cairo_status_t s, const char* what) {
    if (s == CAIRO_STATUS_SUCCESS) return {};
    return makeError(std::string("ticket: ") + what + ": " + cairo_status_to_string(s));
}

// The picture on an RGB image surface `width` dots wide.
Result<SurfacePtr> renderImage(const Layout& layout, int width) {
    if (width < 64 || width > 4096)
        return makeError("ticket: a picture " + std::to_string(width) + " dots wide (64 to 4096)");
    // Laid out on a scratch surface of the same kind (same font options), then drawn.
    SurfacePtr scratch(cairo_image_surface_create(CAIRO_FORMAT_RGB24, 1, 1));
    CairoPtr scratchCr(cairo_create(scratch.get()));
    auto picture = Picture::layOut(scratchCr.get(), layout, width);
    if (!picture) return picture.error();
    SurfacePtr surface(cairo_image_surface_create(CAIRO_FORMAT_RGB24, width, picture->height()));
    if (auto s = cairoStatus(cairo_surface_status(surface.get()), "cannot create the image"); !s) return s.error();
    CairoPtr cr(cairo_create(surface.get()));
    picture->draw(cr.get());
    if (auto s = cairoStatus(cairo_status(cr.get()), "cannot draw"); !s) return s.error();
    cairo_surface_flush(surface.get());
    return surface;
}

}  // namespace

Result<std::string> renderPdf(const Layout& layout) {
    // The 576-dot picture at 203 dpi, centred on a page 80 mm wide.
    constexpr double kPointsPerDot = 72.0 / 203.0;
    constexpr double kPageWidth = 80.0 / 25.4 * 72.0;
    const double side = (kPageWidth - kReceiptDots * kPointsPerDot) / 2;
    std::string out;
    SurfacePtr surface(cairo_pdf_surface_create_for_stream(appendTo, &out, kPageWidth, kPageWidth));
    if (auto s = cairoStatus(cairo_surface_status(surface.get()), "cannot create the PDF"); !s) return s.error();
    cairo_pdf_surface_set_metadata(surface.get(), CAIRO_PDF_METADATA_TITLE, "qkiosk ticket");
    cairo_pdf_surface_set_metadata(surface.get(), CAIRO_PDF_METADATA_CREATOR, "qkiosk");
    CairoPtr cr(cairo_create(surface.get()));
    cairo_translate(cr.get(), side, side);
    cairo_scale(cr.get(), kPointsPerDot, kPointsPerDot);
    auto picture = Picture::layOut(cr.get(), layout, kReceiptDots);
    if (!picture) return picture.error();
    // The page gets its length now that the layout is known (nothing is drawn yet).
    cairo_pdf_surface_set_size(surface.get(), kPageWidth, picture->height() * kPointsPerDot + 2 * side);
    picture->draw(cr.get());
    cairo_show_page(cr.get());
    if (auto s = cairoStatus(cairo_status(cr.get()), "cannot draw the PDF"); !s) return s.error();
    cr.reset();
    cairo_surface_finish(surface.get());
    if (auto s = cairoStatus(cairo_surface_status(surface.get()), "cannot write the PDF"); !s) return s.error();
    return out;
}

Result<std::string> renderPng(const Layout& layout, int widthPx) {
    auto image = renderImage(layout, widthPx);
    if (!image) return image.error();
    std::string out;
    if (auto s = cairoStatus(cairo_surface_write_to_png_stream(image->get(), appendTo, &out), "cannot write the PNG");
        !s)
        return s.error();
    return out;
}

Result<std::string> renderEscPos(const Layout& layout, int dotsWide) {
    if (dotsWide <= 0 || dotsWide % 8 != 0)
        return makeError("ESC/POS: the printer width must be a positive multiple of 8 dots, not " +
                         std::to_string(dotsWide));
    auto image = renderImage(layout, dotsWide);
    if (!image) return image.error();
    cairo_surface_t* s = image->get();
    const int height = cairo_image_surface_get_height(s);
    const int stride = cairo_image_surface_get_stride(s);
    const unsigned char* pixels = cairo_image_surface_get_data(s);
    const int bytesPerRow = dotsWide / 8;

    constexpr int kBandRows = 256;
    std::string out;
    out.reserve(static_cast<std::size_t>(bytesPerRow) * height + static_cast<std::size_t>(height / kBandRows + 1) * 8 + 8);
    out.append("\x1b\x40", 2);  // ESC @: initialise
    for (int top = 0; top < height; top += kBandRows) {
        const int rows = std::min(kBandRows, height - top);
        // GS v 0, normal density: width in bytes, height in dots, then the rows.
        const char header[] = {0x1d, 0x76, 0x30, 0x00,
                               static_cast<char>(bytesPerRow & 0xff), static_cast<char>(bytesPerRow >> 8),
                               static_cast<char>(rows & 0xff), static_cast<char>(rows >> 8)};
        out.append(header, sizeof header);
        for (int y = top; y < top + rows; ++y) {
            const auto* row = reinterpret_cast<const std::uint32_t*>(pixels + static_cast<std::ptrdiff_t>(y) * stride);
            for (int xb = 0; xb < bytesPerRow; ++xb) {
                unsigned byte = 0;
                for (int bit = 0; bit < 8; ++bit) {
                    const std::uint32_t px = row[xb * 8 + bit];
                    const unsigned r = (px >> 16) & 0xff, g = (px >> 8) & 0xff, b = px & 0xff;
                    // Luminance below half: a burnt dot (1 = print, leftmost dot in the high bit).
                    if (r * 299 + g * 587 + b * 114 < 128 * 1000) byte |= 0x80u >> bit;
                }
                out.push_back(static_cast<char>(byte));
            }
        }
    }
    out.append("\x1d\x56\x42\x00", 4);  // GS V 66 0: feed to the cutter, cut (a hinge left)
    return out;
}

Result<std::string> qrText(const std::string& payload, QrTextStyle style) {
    auto qr = encodeQr(payload);
    if (!qr) return qr.error();
    const int n = qr->size + 2 * kQrQuietZone;
    // A module is "on" (drawn as a block) when it is dark in DarkOnLight style, light otherwise.
    auto on = [&](int x, int y) {
        const int mx = x - kQrQuietZone, my = y - kQrQuietZone;
        if (y >= n) return false;  // the half row below an odd number of rows
        const bool dark = mx >= 0 && my >= 0 && mx < qr->size && my < qr->size && qr->at(mx, my);
        return style == QrTextStyle::DarkOnLight ? dark : !dark;
    };
    std::string out;
    for (int y = 0; y < n; y += 2) {
        for (int x = 0; x < n; ++x) {
            const bool top = on(x, y), bottom = on(x, y + 1);
            if (top && bottom) out.append("\u2588");
            else if (top) out.append("\u2580");
            else if (bottom) out.append("\u2584");
            else out.push_back(' ');
        }
        out.push_back('\n');
    }
    return out;
}

}  // namespace kiosk::ticket
