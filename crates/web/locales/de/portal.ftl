portal-name = Partnerportal
skip-to-content = Zum Inhalt springen
nav-inbox = Posteingang
nav-sign-out = Abmelden
signed-in-as = Angemeldet als { $name }

sign-in-title = Anmelden
sign-in-intro = Geben Sie die E-Mail-Adresse ein, die Ihr Unternehmen für Sie registriert hat. Wir senden Ihnen einen Link, mit dem Sie sich anmelden.
sign-in-email = E-Mail-Adresse
sign-in-send = Anmeldelink senden
sign-in-sent-title = Sehen Sie in Ihr Postfach
sign-in-sent = Wenn { $email } zu einem Partnerbenutzer gehört, ist ein Anmeldelink unterwegs. Er gilt einmal, 15 Minuten lang.
sign-in-again = Andere Adresse verwenden
sign-in-link-title = Anmeldung abschließen
sign-in-link-intro = Klicken Sie auf die Schaltfläche, um sich auf diesem Gerät am Partnerportal anzumelden.
sign-in-link-button = Anmelden
sign-in-link-failed = Dieser Anmeldelink wurde bereits verwendet, ist abgelaufen oder ungültig. Fordern Sie einen neuen an.

inbox-title = Posteingang
inbox-search = Nachrichten durchsuchen
inbox-search-button = Suchen
inbox-filter-topic = Thema
inbox-filter-any-topic = Alle Themen
inbox-filter-importance = Wichtigkeit
inbox-filter-any-importance = Jede Wichtigkeit
inbox-filter-unread = Nur ungelesene
inbox-filter-needs-ack = Wartet auf meine Bestätigung
inbox-filter-apply = Filter anwenden
inbox-filter-clear = Zurücksetzen
inbox-empty = Keine passenden Nachrichten.
inbox-older = Ältere Nachrichten
inbox-unread = Ungelesen
inbox-needs-ack = Bestätigung erforderlich
inbox-acknowledged = Bestätigt

importance-critical = Pflichtlektüre
importance-action = Wichtig
importance-info = Zur Information

message-what-changed = Was sich ändert
message-why-it-matters = Warum es wichtig ist
message-what-to-do = Was jetzt zu tun ist
message-back = Zurück zum Posteingang
message-received = Erhalten am { $date }
message-ack-title = Ihre Bestätigung
message-ack-intro = Mit der Schaltfläche bestätigen Sie:
message-ack-button = Ich bestätige
message-ack-due = Bitte bestätigen Sie bis { $date }.
message-ack-done = Sie haben dies am { $date } bestätigt.
message-acknowledged = Danke: Ihre Bestätigung ist gespeichert.

popup-label = Pflichtlektüre: wartet auf Ihre Bestätigung
popup-read = Lesen und bestätigen
popup-later = Vorerst schließen

error-title = Etwas stimmt nicht
error-not-found = Diese Seite gibt es nicht, oder sie ist nicht für Sie bestimmt.
error-form-expired = Dieses Formular ist abgelaufen. Gehen Sie zurück, laden Sie die Seite neu und versuchen Sie es erneut.
error-too-many = Zu viele Versuche. Warten Sie eine Minute und versuchen Sie es erneut.
error-unexpected = Bei uns ist etwas schiefgegangen. Versuchen Sie es gleich noch einmal.
