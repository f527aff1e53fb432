email-sign-in-subject = Su enlace de acceso
email-sign-in-intro = Abra este enlace para iniciar sesión en su portal de socios. Funciona una vez, durante 15 minutos.
email-sign-in-button = Iniciar sesión
email-sign-in-ignore = Si no lo ha pedido, ignore este correo: nadie puede iniciar sesión sin el enlace.
email-reminder-subject = Recordatorio: { $title }
email-reminder-intro = { $lead } le pide que lea y confirme un mensaje imprescindible:

chase-reminder-title = Recordatorio: { $title }
chase-correction-title = Corregido: { $title }
chase-correction-intro = Este mensaje se corrigió después de enviarse. Léalo de nuevo y confirme el texto corregido.
chase-lead-title = Pendiente en { $partner }: { $title }
chase-lead-intro = { $count } de sus colegas aún no lo han confirmado. Asegúrese de que lo hagan:
chase-state-reminded = recordado por { $channel }
chase-state-waiting = un recordatorio por { $channel } saldrá en su horario laboral
chase-state-failed = el recordatorio por { $channel } falló: { $reason }
chase-state-unreachable = ningún canal abierto para recordárselo; solo el portal lo muestra
chase-state-not-yet = aún no recordado

email-digest-subject = Su resumen: { $count } novedades sin leer
email-digest-intro = Estos { $count } mensajes le esperan sin leer en su portal de socios:
email-digest-change = Cambie la frecuencia de este resumen en sus preferencias:
