// Charts with a menu in Vietnamese that only saves the picture (for the annual report):
// datasette-dashboards calls vegaEmbed(el, spec) with vega-embed's English menu, whose "Open
// in Vega Editor" would also send the chart's data to an outside site. Loaded after
// vega-embed and before dashboards.js, this gives every call pressmon's options.
(function () {
  var embed = window.vegaEmbed;
  if (!embed) return;
  var options = {
    actions: { export: true, source: false, compiled: false, editor: false },
    i18n: {
      CLICK_TO_VIEW_ACTIONS: "Lưu biểu đồ",
      PNG_ACTION: "Lưu thành ảnh PNG",
      SVG_ACTION: "Lưu thành ảnh SVG",
      SOURCE_ACTION: "Xem mã nguồn",
      COMPILED_ACTION: "Xem mã Vega",
      EDITOR_ACTION: "Mở trong trình soạn Vega"
    },
    formatLocale: { decimal: ",", thousands: ".", grouping: [3], currency: ["", " ₫"] }
  };
  window.vegaEmbed = function (el, spec, extra) {
    return embed(el, spec, Object.assign({}, options, extra || {}));
  };
})();
