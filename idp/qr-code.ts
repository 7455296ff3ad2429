/**
 * QR codes of `otpauth://` URIs for authenticator app registration, as `data:image/png;base64,…` URLs: the
 * IdP's CSP allows `img-src data:`, and a URL is put in an `<img src>` with escaped output (no raw markup).
 */

/**
 * Renders `text` as a QR code PNG data URL (error correction M, 4-module quiet zone, 6 px per module).
 * @throws when `text` is too long for a QR code (never for an otpauth URI).
 */
export async function qrDataUrl(text: string): Promise<string> {
  // Loaded at the first registration page that shows a code: an idle IdP never draws one.
  const { default: QRCode } = await import('qrcode');
  return QRCode.toDataURL(text, { errorCorrectionLevel: 'M', margin: 4, scale: 6 });
}
