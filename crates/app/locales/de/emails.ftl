email-sign-in-subject = Ihr Anmeldelink
email-sign-in-intro = Öffnen Sie diesen Link, um sich im Partnerportal anzumelden. Er gilt einmal, 15 Minuten lang.
email-sign-in-button = Anmelden
email-sign-in-ignore = Wenn Sie ihn nicht angefordert haben, ignorieren Sie diese E-Mail: Ohne den Link kann sich niemand anmelden.
email-reminder-subject = Erinnerung: { $title }
email-reminder-intro = { $lead } bittet Sie, eine Pflichtlektüre zu lesen und zu bestätigen:

chase-reminder-title = Erinnerung: { $title }
chase-correction-title = Korrigiert: { $title }
chase-correction-intro = Diese Nachricht wurde nach dem Versand korrigiert. Bitte lesen Sie sie erneut und bestätigen Sie den korrigierten Text.
chase-lead-title = Noch offen bei { $partner }: { $title }
chase-lead-intro = { $count } Ihrer Kolleginnen und Kollegen haben dies noch nicht bestätigt. Bitte sorgen Sie dafür:
chase-state-reminded = per { $channel } erinnert
chase-state-waiting = eine Erinnerung per { $channel } folgt zu ihren Arbeitszeiten
chase-state-failed = die Erinnerung per { $channel } ist fehlgeschlagen: { $reason }
chase-state-unreachable = kein Kanal für Erinnerungen offen; nur das Portal zeigt es
chase-state-not-yet = noch nicht erinnert

email-digest-subject = Ihre Zusammenfassung: { $count } ungelesene Neuigkeiten
email-digest-intro = Diese { $count } Nachrichten warten ungelesen in Ihrem Partnerportal:
email-digest-change = Wie oft Sie diese Zusammenfassung erhalten, ändern Sie in Ihren Einstellungen:
