portal-name = Portal de socios
skip-to-content = Ir al contenido
nav-inbox = Bandeja de entrada
nav-sign-out = Cerrar sesión
signed-in-as = Sesión iniciada como { $name }

sign-in-title = Iniciar sesión
sign-in-intro = Introduzca la dirección de correo que su empresa registró para usted. Le enviaremos un enlace para iniciar sesión.
sign-in-email = Correo electrónico
sign-in-send = Enviarme un enlace de acceso
sign-in-sent-title = Revise su correo
sign-in-sent = Si { $email } pertenece a un usuario de un socio, un enlace de acceso va de camino. Funciona una vez, durante 15 minutos.
sign-in-again = Usar otra dirección
sign-in-link-title = Terminar el inicio de sesión
sign-in-link-intro = Pulse el botón para iniciar sesión en el portal de socios en este dispositivo.
sign-in-link-button = Iniciar sesión
sign-in-link-failed = Este enlace de acceso ya se usó, caducó o no es válido. Pida uno nuevo.

inbox-title = Bandeja de entrada
inbox-search = Buscar mensajes
inbox-search-button = Buscar
inbox-filter-topic = Tema
inbox-filter-any-topic = Todos los temas
inbox-filter-importance = Importancia
inbox-filter-any-importance = Cualquier importancia
inbox-filter-unread = Solo no leídos
inbox-filter-needs-ack = Pendientes de mi confirmación
inbox-filter-apply = Aplicar filtros
inbox-filter-clear = Borrar
inbox-empty = Ningún mensaje coincide.
inbox-older = Mensajes anteriores
inbox-unread = No leído
inbox-needs-ack = Requiere confirmación
inbox-acknowledged = Confirmado

importance-critical = Imprescindible
importance-action = Importante
importance-info = Para su información

message-what-changed = Qué ha cambiado
message-why-it-matters = Por qué importa
message-what-to-do = Qué hacer ahora
message-back = Volver a la bandeja de entrada
message-received = Recibido el { $date }
message-ack-title = Su confirmación
message-ack-intro = Al pulsar el botón confirma:
message-ack-button = Confirmo
message-ack-due = Confirme antes del { $date }.
message-ack-done = Lo confirmó el { $date }.
message-acknowledged = Gracias: su confirmación ha quedado registrada.

popup-label = Imprescindible: pendiente de su confirmación
popup-read = Leer y confirmar
popup-later = Cerrar por ahora

error-title = Algo ha fallado
error-not-found = Esta página no existe, o no es para usted.
error-form-expired = Este formulario ha caducado. Vuelva atrás, recargue la página e inténtelo de nuevo.
error-too-many = Demasiados intentos. Espere un minuto e inténtelo de nuevo.
error-unexpected = Algo ha fallado por nuestra parte. Inténtelo de nuevo en un momento.
