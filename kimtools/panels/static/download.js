// A button that asks the kernel for a file and hands it to the browser as a download.
// The file travels as one custom message; nothing is stored on the server.

export default {
  render({ model, el }) {
    const button = document.createElement("button");
    button.className = "kim-download jupyter-button";
    button.textContent = model.get("label");
    const status = document.createElement("span");
    status.className = "kim-download-status";
    status.style.marginLeft = "10px";
    el.append(button, status);
    button.addEventListener("click", () => {
      button.disabled = true;
      status.textContent = model.get("busy");
      model.send({ kind: "make" });
    });
    const onMessage = (msg, buffers) => {
      if (!msg) return;
      button.disabled = false;
      if (msg.kind === "error") {
        status.textContent = msg.text;
        return;
      }
      if (msg.kind !== "file") return;
      const body = msg.content === null && buffers && buffers.length ? buffers[0] : msg.content;   // bytes or text
      const url = URL.createObjectURL(new Blob([body], { type: msg.mime }));
      const a = document.createElement("a");
      a.href = url;
      a.download = msg.name;
      document.body.appendChild(a);
      a.click();
      a.remove();
      setTimeout(() => URL.revokeObjectURL(url), 60000);
      status.textContent = msg.done;
    };
    model.on("msg:custom", onMessage);
    return () => model.off("msg:custom", onMessage);
  },
};
