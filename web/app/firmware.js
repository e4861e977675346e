// The firmware repository: upload an image (the browser sends the file as
// the request body; the server hashes it on the way to disk), the images with
// their SHA-256, sizes and the models they fit, a download for each, and
// deleting one (refused while a campaign uses it). Operators and admins
// change; everyone who may read sees the list.
import { html, useState } from './vendor.js';
import { api, get, withQuery, upload, download } from './api.js';
import { ErrorNote, Loading, Table, Input, Field, Section, fmtTime, canOperate, useLoad } from './ui.js';

const fmtBytes = (n) => (n >= 1048576 ? `${(n / 1048576).toFixed(1)} MB` : n >= 1024 ? `${(n / 1024).toFixed(1)} kB` : `${n} B`);

function Upload({ onDone }) {
  const [form, setForm] = useState({ version: '', vendor: '', models: '', filename: '' });
  const [file, setFile] = useState(null);
  const [error, setError] = useState(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    if (!file) return;
    setBusy(true);
    setError(null);
    try {
      const q = { version: form.version.trim(), vendor: form.vendor.trim(), models: form.models.trim(), filename: form.filename.trim() || file.name };
      const img = await upload(withQuery('/api/v1/firmware', q), new Blob([file], { type: 'application/octet-stream' }));
      setForm({ version: '', vendor: '', models: '', filename: '' });
      setFile(null);
      e.target.reset();
      onDone(img);
    } catch (err) {
      setError(err);
    } finally {
      setBusy(false);
    }
  };
  return html`<form class="grid-form" onSubmit=${submit} aria-label="Upload a firmware image">
    <${Field} label="Image file"><input type="file" name="file" required onChange=${(e) => setFile(e.target.files[0] || null)} /><//>
    <${Input} form=${form} set=${setForm} name="version" label="Version" required placeholder="2.4.1" />
    <${Input} form=${form} set=${setForm} name="vendor" label="Vendor" />
    <${Input} form=${form} set=${setForm} name="models" label="Models" hint="comma-separated" />
    <${Input} form=${form} set=${setForm} name="filename" label="File name for stations" hint="default: the file's own name" />
    <${ErrorNote} error=${error} />
    <button type="submit" class="primary" disabled=${busy || !file}>${busy ? 'Uploading…' : 'Upload'}</button>
  </form>`;
}

export function FirmwarePage({ user }) {
  const [vendor, setVendor] = useState('');
  const [error, setError] = useState(null);
  const [note, setNote] = useState(null);
  const images = useLoad(() => get(withQuery('/api/v1/firmware', { vendor, limit: 200 })), [vendor]);
  const items = (images.data && images.data.items) || [];
  const remove = async (img) => {
    if (!confirm(`Delete firmware ${img.version} (${img.filename})? Links stations were given stop working.`)) return;
    setError(null);
    try {
      await api('DELETE', `/api/v1/firmware/${img.id}`);
      setNote(`Deleted ${img.version}.`);
      images.reload();
    } catch (err) {
      setError(err);
    }
  };
  const rows = items.map((i) => html`<tr>
    <td>${i.id}</td><td><strong>${i.version}</strong></td><td>${i.vendor || '—'}</td>
    <td>${i.models.length ? i.models.join(', ') : '—'}</td><td>${i.filename}</td><td>${fmtBytes(i.size)}</td>
    <td><code title=${i.sha256}>${i.sha256.slice(0, 12)}…</code></td>
    <td>${i.signature ? 'signed' : '—'}</td><td>${fmtTime(i.created_at)}</td>
    <td class="actions">
      <button class="link" onClick=${() => download(i.download, i.filename).catch(setError)}>Download</button>
      ${canOperate(user) ? html`<button class="link danger" onClick=${() => remove(i)}>Delete</button>` : null}
    </td></tr>`);
  return html`<h1>Firmware</h1>
    ${canOperate(user) ? html`<${Section} title="Upload an image" id="fw-upload">
      <${Upload} onDone=${(img) => { setNote(`Uploaded ${img.version}: SHA-256 ${img.sha256}`); images.reload(); }} /><//>` : null}
    <${Section} title="Images" id="fw-images" actions=${html`<label class="inline">Vendor
        <input value=${vendor} onChange=${(e) => setVendor(e.target.value.trim())} placeholder="all" /></label>`}>
      ${note ? html`<p class="note" role="status">${note}</p>` : null}
      <${ErrorNote} error=${error || images.error} what="The firmware repository" />
      <${Loading} loading=${images.loading && !images.data} />
      <${Table} label="Firmware images" head=${['Id', 'Version', 'Vendor', 'Models', 'File', 'Size', 'SHA-256', '2.0.1', 'Uploaded', '']}
        rows=${rows} empty="No firmware images yet." />
    <//>`;
}
